"""
Jobs submitted held: the engine records a job (its id in XNAT) before the job may start.

A held submission writes `<job dir>/.held` holding the submit command's answer as soon as the
scheduler has taken the job, in the same remote command: the marker says "this job is ours,
held, and not yet released", and survives the engine. `release` lets the jobs start and only
then removes their markers, so a crash between the two leaves a marker on a job that is no
longer held (forgotten at the next look), never a held job without one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

from . import _names
from ._exceptions import InvalidValue
from ._transport import Transport

HELD_MARKER = ".held"

# After the submit command, when the scheduler took the job: its answer into the marker, then
# to stdout, as the engine reads it. The directory and argv arrive as arguments ("$@").
HELD_SUBMIT_TAIL = f"""\
answer=$("$@") || {{ status=$?; printf '%s\\n' "$answer"; exit $status; }}
printf '%s\\n' "$answer" > "$d/{HELD_MARKER}"
printf '%s\\n' "$answer"
"""

# The release command in "$@"; the job directories on stdin, one per line (checked names).
_RELEASE = f"""\
"$@" || exit $?
while IFS= read -r d; do rm -f -- "$d/{HELD_MARKER}"; done
"""

_FORGET = f'while IFS= read -r d; do rm -f -- "$d/{HELD_MARKER}"; done\n'

# Every marker under the work root: "<job dir name> <the submit command's last answer line>".
_LIST = f"""\
for f in "$1"/*/{HELD_MARKER}; do
    [ -f "$f" ] || continue
    d=${{f%/{HELD_MARKER}}}
    answer=
    while IFS= read -r line; do [ -n "$line" ] && answer=$line; done < "$f"
    printf '%s %s\\n' "${{d##*/}}" "$answer"
done
"""


def _dirs_text(job_dirs: Iterable[PurePosixPath]) -> str:
    return "".join(f"{_names.check_path(d, 'job directory')}\n" for d in job_dirs)


def release_argv(
    command: Sequence[str], job_dirs: Iterable[PurePosixPath]
) -> tuple[list[str], bytes]:
    """
    argv and stdin of one remote command that runs the release command, then forgets the
    jobs' markers (only when it succeeded: a failed release leaves them).
    """
    return ["sh", "-c", _RELEASE, "sh", *command], _dirs_text(job_dirs).encode()


async def forget(transport: Transport, job_dirs: Iterable[PurePosixPath]) -> None:
    """Remove markers of jobs no longer held (released, ended or gone): one command."""
    dirs = _dirs_text(job_dirs)
    if dirs:
        await transport.run(["sh", "-c", _FORGET], stdin=dirs.encode(), check=True)


async def held_jobs(transport: Transport, work_root: str | PurePosixPath) -> dict[str, str]:
    """
    job directory name -> job id of every job submitted held and not yet released under the
    work root, from the markers alone: one command, and no scheduler query.
    """
    root = str(_names.check_path(PurePosixPath(work_root), "work root"))
    result = await transport.run(["sh", "-c", _LIST, "sh", root], check=True)
    found: dict[str, str] = {}
    for line in result.stdout.splitlines():
        name, _, answer = line.partition(" ")
        try:
            found[name] = _names.check_job_id(answer.strip().split(";", 1)[0])
        except InvalidValue:
            continue  # not an answer a submit command gives: nothing to adopt
    return found
