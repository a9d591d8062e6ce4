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

MAX_NAME_LENGTH = 236  # PBS Pro's limit; Torque allows 230, Slurm more
#: The longest job name every scheduler takes: Torque's 230 (PBS Pro 236; Slurm has no limit
#: of its own, and its accounting database keeps 255 characters).
JOB_NAME_LIMIT = 230
_HASH_DIGITS = 10

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
_PATH = re.compile(r"/[A-Za-z0-9_.+/-]*")
_JOB_ID = re.compile(r"[0-9]+(\[[0-9]*\]|_[0-9]+)?(\.[A-Za-z0-9_.-]+)?")
#: An array element's id: Slurm's `123_7`, PBS's `123[7]` (and the array, `123[]`).
ELEMENT_ID = re.compile(r"^(?P<base>[0-9]+)(?:_(?P<index>[0-9]+)|\[(?P<bracket>[0-9]*)\])")
_WORD = re.compile(r"[A-Za-z0-9_.@+-]+")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]")


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


def job_name(label: str, limit: int = JOB_NAME_LIMIT) -> str:
    """
    The job name for a label (an assessor label, say): the label itself when it is a valid job
    name of at most `limit` characters, otherwise a stable short form of it.

    The short form is the label's leading characters with anything outside `A-Z a-z 0-9 _ . +
    -` replaced by `_`, then `-` and the first 10 hex digits of the label's SHA-256: the same
    label always gives the same name, so a job is still found by name after a crash, and two
    labels sharing a name is as unlikely as a 40-bit collision. It is what to pass as
    `JobSpec.name` and to `find_by_name`, for PBS and Slurm alike.
    """
    if not isinstance(label, str) or not label:
        raise InvalidValue("label", label, "must be a non-empty string")
    if limit < _HASH_DIGITS + 2:
        raise ValueError(f"a job name limit under {_HASH_DIGITS + 2} leaves no room for a label")
    if len(label) <= limit and _NAME.fullmatch(label):
        return label
    digest = hashlib.sha256(label.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_DIGITS]
    room = limit - _HASH_DIGITS - 1
    prefix = _UNSAFE.sub("_", label).lstrip("_.+-")[:room] or "job"[:room]
    return check_job_name(f"{prefix}-{digest}")


def check_job_id(job_id: str) -> str:
    """
    A job id as the schedulers print it: `123`, `123.server`, an array `123[].server`, an
    array's element `123[7].server` (PBS) or `123_7` (Slurm).
    """
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise InvalidValue("job id", job_id, "expected <number>[.<server>] or an array element")
    return job_id


def element_rank(job_id: str) -> tuple[int, int]:
    """(sequence number, element index or -1): the order of jobs, and of an array's elements."""
    found = ELEMENT_ID.match(job_id)
    if found is None:
        digits = "".join(ch for ch in job_id.split(".", 1)[0] if ch.isdigit())
        return (int(digits or 0), -1)
    index = found["index"] or found["bracket"] or ""
    return (int(found["base"]), int(index) if index else -1)


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
