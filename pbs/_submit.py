"""
What every scheduler's client shares: one remote command per submission (the job directory
prepared, job.sh written and the submit command run together), the reading of a submit
command's answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import _names
from ._exceptions import CommandFailed, ConnectionLost, SchedulerUnavailable, SubmitFailed
from ._holds import HELD_MARKER, HELD_SUBMIT_TAIL
from ._jobdirs import STATUS_FILES
from ._transport import CommandResult

# Prepare the job directory, write job.sh from stdin atomically, then exec the submit command:
# one remote command per submission. The directory and the command's argv arrive as separate
# arguments ("$@"), never inside the script text. A failure before the submit command exits
# PREPARE_FAILED with a marker line.
PREPARE_FAILED = 97
PREPARE_MARKER = "aspider-pbs: cannot prepare the job directory"
_PREPARE = f"""\
d=$1
shift
{{
    mkdir -p "$d/INPUTS" "$d/OUTPUTS" "$d/status" &&
    rm -f {" ".join(f'"$d/status/{name}"' for name in STATUS_FILES)} "$d/{HELD_MARKER}" &&
    cat > "$d/.job.sh.$$" &&
    mv -f "$d/.job.sh.$$" "$d/job.sh"
}} || {{ echo "{PREPARE_MARKER} $d" >&2; exit {PREPARE_FAILED}; }}
"""
SUBMIT_SCRIPT = _PREPARE + 'exec "$@"\n'
# A held submission also leaves the marker that says the job is ours and not yet released.
HELD_SUBMIT_SCRIPT = _PREPARE + HELD_SUBMIT_TAIL

# A submit command that never reached the server: nothing was submitted.
_UNREACHABLE = (
    "unable to contact slurm controller",
    "cannot connect to server",
    "cannot connect to default server",
)
# A submit command whose request may have reached the server: look the job up by name.
_UNANSWERED = (
    "socket timed out on send/recv",
    "zero bytes were transmitted or received",
)


def submit_argv(job_dir: str, command: Sequence[str], *, hold: bool = False) -> list[str]:
    """
    argv that prepares job_dir, writes job.sh from stdin and runs command; a held submission
    (`hold`) also writes the job's marker (`_holds`) once the scheduler has taken it.
    """
    return ["sh", "-c", HELD_SUBMIT_SCRIPT if hold else SUBMIT_SCRIPT, "sh", job_dir, *command]


def submitted_id(result: CommandResult, command: Sequence[str], job_dir: str) -> str:
    """
    The job id the submit command printed last (`1234`, `1234.server`; Slurm's
    `1234;cluster` reads as `1234`).

    Raises:
        CommandFailed: the job directory could not be prepared (nothing was submitted).
        SchedulerUnavailable: the server could not be reached (nothing was submitted).
        ConnectionLost: the server did not answer; the job may exist (find it by name).
        SubmitFailed: the server refused the job.
    """
    if result.exit_status == PREPARE_FAILED and PREPARE_MARKER in result.stderr:
        prepare = ["prepare job directory", job_dir]
        raise CommandFailed(prepare, result.exit_status, result.stdout, result.stderr)
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if result.exit_status != 0 or not lines:
        _raise_refusal(result, command)
    try:
        return _names.check_job_id(lines[-1].split(";", 1)[0])
    except ValueError:
        raise SubmitFailed(command, result.exit_status, result.stdout, result.stderr) from None


def _raise_refusal(result: CommandResult, command: Sequence[str]) -> None:
    said = (result.stdout + "\n" + result.stderr).lower()
    if any(text in said for text in _UNANSWERED):
        raise ConnectionLost(
            f"{command[0]}: the scheduler did not answer; the job may exist: "
            f"{(result.stderr or result.stdout).strip()}"
        )
    error = SchedulerUnavailable if any(text in said for text in _UNREACHABLE) else SubmitFailed
    raise error(command, result.exit_status, result.stdout, result.stderr)
