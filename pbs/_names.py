"""
What may be handed to the scheduler: job names, job ids, paths and option values.

The Torque wrappers over Slurm build an `sbatch` command line as a string and run it through a
shell, unquoted; real `qsub` writes names into #PBS-style attributes. So anything that reaches
qsub is checked against a conservative alphabet here, and rejected with a clear reason rather
than mangled: a mangled name would no longer find its job.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath

from ._exceptions import InvalidValue

MAX_NAME_LENGTH = 236  # PBS Pro's limit; Torque allows less on old servers, Slurm more

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
_PATH = re.compile(r"/[A-Za-z0-9_.+/-]*")
_JOB_ID = re.compile(r"[0-9]+(\[[0-9]*\])?(\.[A-Za-z0-9_.-]+)?")
_WORD = re.compile(r"[A-Za-z0-9_.@+-]+")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]")
_SHORT_PREFIX = 160  # characters of the text kept before the digest in a derived name


def check_job_name(name: str) -> str:
    """A job name: first character alphanumeric, then `A-Z a-z 0-9 _ . + -`, <= 236 chars."""
    if not isinstance(name, str) or not name:
        raise InvalidValue("job name", name, "must be a non-empty string")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidValue("job name", name, f"longer than {MAX_NAME_LENGTH} characters")
    if not _NAME.fullmatch(name):
        raise InvalidValue(
            "job name",
            name,
            "must start with a letter or digit and contain only ASCII letters, digits and "
            "'_.+-' (no spaces, quotes, shell metacharacters, slashes or non-ASCII)",
        )
    return name


def job_name_for(text: str) -> str:
    """
    The job name, and the job directory's name, for any text (an XNAT label, say).

    The text itself when it is already a valid job name (see `check_job_name`), so names stay
    readable in `qstat`; otherwise a stable short form, the same for the same text on every
    run: its first characters with unsafe ones as `_`, then `-h` and 16 hex digits of the
    SHA-256 of the whole text. A label too long for the scheduler, or with characters it
    refuses, is thus still one job, found again by name after a crash. Never raises.
    """
    if isinstance(text, str) and len(text) <= MAX_NAME_LENGTH and _NAME.fullmatch(text):
        return text
    digest = hashlib.sha256(str(text).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    prefix = _UNSAFE.sub("_", str(text)[:_SHORT_PREFIX])
    if not prefix[:1].isalnum():
        prefix = "j" + prefix
    return f"{prefix}-h{digest}"


def check_job_id(job_id: str) -> str:
    """A job id as qsub prints it: `123`, `123.server`, `123[].server`."""
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise InvalidValue("job id", job_id, "expected <number>[.<server>]")
    return job_id


def check_path(path: str | PurePosixPath, what: str = "path") -> PurePosixPath:
    """An absolute POSIX path of safe characters with no `..` component."""
    text = str(path)
    if not _PATH.fullmatch(text):
        raise InvalidValue(
            what, text, "must be absolute and contain only ASCII letters, digits and '_.+-/'"
        )
    pure = PurePosixPath(text)
    if ".." in pure.parts:
        raise InvalidValue(what, text, "must not contain '..'")
    return pure


def check_word(value: str, what: str) -> str:
    """A queue, account or mail address: one word of safe characters."""
    if not isinstance(value, str) or not _WORD.fullmatch(value):
        raise InvalidValue(what, value, "must be one word of ASCII letters, digits and '_.@+-'")
    return value


def check_env_key(key: str) -> str:
    """An environment variable name the shell accepts."""
    if not isinstance(key, str) or not _ENV_KEY.fullmatch(key):
        raise InvalidValue("environment variable name", key, "must match [A-Za-z_][A-Za-z0-9_]*")
    return key


def check_line(value: str, what: str) -> str:
    """Text that must stay on one line (an extra #PBS directive): no control characters."""
    if not isinstance(value, str) or not value.strip() or _CONTROL.search(value):
        raise InvalidValue(what, value, "must be non-empty and contain no control characters")
    return value


def check_no_nul(value: str, what: str) -> str:
    """Text a shell script can hold: anything but NUL."""
    if "\x00" in value:
        raise InvalidValue(what, value, "must not contain NUL characters")
    return value
