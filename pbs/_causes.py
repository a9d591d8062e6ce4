"""
Why a job ended: each scheduler's conventions read into one `EndCause`, and `end_cause`, which
weighs the scheduler's account against the job directory's.

PBS Pro / OpenPBS `Exit_status`: 0-255 the job script's own exit; 256 + n the top shell was
killed by signal n; negative values are the server's: -29 walltime, -28 CPU time, -27 memory,
-26 virtual memory, -25 / -24 CPUs over the request; other negatives mean the job could not be
started or run (bad uid, failed hook, ...). Torque's `exit_status` has the same 0-255 and
256 + n; its negatives are -10 memory (Torque 4 used -10 for any limit), -11 walltime, -12 CPU
time, and other negatives for launch failures. Older servers report a walltime kill as 256 +
SIGTERM (271) or 256 + SIGKILL (265): indistinguishable from a qdel, hence `KILLED`.

Slurm names the cause in the job's state: OUT_OF_MEMORY, TIMEOUT, CANCELLED, PREEMPTED,
NODE_FAIL, BOOT_FAIL, DEADLINE; FAILED is a non-zero exit, or a signal when one is reported.
"""

from __future__ import annotations

from ._models import EndCause, JobDirState, JobInfo, JobState

_PBSPRO_NEGATIVE = {
    -29: EndCause.WALLTIME,
    -28: EndCause.WALLTIME,
    -27: EndCause.MEMORY,
    -26: EndCause.MEMORY,
    -25: EndCause.KILLED,
    -24: EndCause.KILLED,
}
_TORQUE_NEGATIVE = {
    -10: EndCause.MEMORY,
    -11: EndCause.WALLTIME,
    -12: EndCause.WALLTIME,
}

#: Slurm's job states for ended jobs (FAILED depends on the signal, see `slurm_cause`).
SLURM_ENDED = {
    "COMPLETED": EndCause.SUCCESS,
    "FAILED": EndCause.EXIT_CODE,
    "OUT_OF_MEMORY": EndCause.MEMORY,
    "TIMEOUT": EndCause.WALLTIME,
    "CANCELLED": EndCause.CANCELLED,
    "DEADLINE": EndCause.CANCELLED,
    "REVOKED": EndCause.CANCELLED,
    "PREEMPTED": EndCause.PREEMPTED,
    "NODE_FAIL": EndCause.NODE_FAILURE,
    "BOOT_FAIL": EndCause.NODE_FAILURE,
    "SPECIAL_EXIT": EndCause.EXIT_CODE,
}

# What the scheduler alone can know, and which explains the exit code it caused (a command
# killed for memory exits 137; the wrapper faithfully records that).
_VERDICTS = frozenset(
    {
        EndCause.MEMORY,
        EndCause.WALLTIME,
        EndCause.CANCELLED,
        EndCause.PREEMPTED,
        EndCause.NODE_FAILURE,
    }
)
_STOPPED = frozenset({EndCause.KILLED, EndCause.SCHEDULER})


def _common_cause(status: int, negative: dict[int, EndCause]) -> EndCause:
    if status == 0:
        return EndCause.SUCCESS
    if 0 < status < 256:
        return EndCause.EXIT_CODE
    if status >= 256:
        return EndCause.KILLED
    return negative.get(status, EndCause.SCHEDULER)


def pbspro_cause(status: int) -> EndCause:
    """PBS Pro / OpenPBS `Exit_status` -> EndCause."""
    return _common_cause(status, _PBSPRO_NEGATIVE)


def torque_cause(status: int) -> EndCause:
    """Torque `exit_status` -> EndCause."""
    return _common_cause(status, _TORQUE_NEGATIVE)


def exit_signal(status: int) -> int | None:
    """The signal in a PBS exit status of 256 + n, else None."""
    return status - 256 if status > 256 else None


def slurm_cause(state: str, signal: int | None) -> EndCause | None:
    """A Slurm state (`CANCELLED by 0` reads as CANCELLED) -> EndCause; None if not ended."""
    word = state.split(" ", 1)[0].strip().upper()
    cause = SLURM_ENDED.get(word)
    if cause is EndCause.EXIT_CODE and signal:
        return EndCause.KILLED
    return cause


def end_cause(info: JobInfo | None, state: JobDirState) -> EndCause | None:
    """
    Why the job ended, from the scheduler's view and the job directory's; None while it may
    still run, or while its end is not settled.

    - Exit code 0 in the directory is `SUCCESS`, whatever the scheduler says.
    - A cause only the scheduler knows (memory, walltime, cancelled, preempted, node failure)
      comes next: it explains the non-zero exit code or the missing one.
    - A non-zero exit code is `EXIT_CODE` once the scheduler no longer holds the job active
      (until then its verdict, out of memory perhaps, may still come: None).
    - A directory that records a trapped signal (no exit code) is `KILLED`, unless the
      scheduler named the stop (`SCHEDULER`).
    - No end in the directory: the scheduler's `KILLED` / `SCHEDULER` if it says so; `LOST`
      once the scheduler no longer knows the job. The caller decides how long a job may be
      unknown before it believes `LOST` (files on a shared filesystem lag).
    """
    if state.exit_code == 0:
        return EndCause.SUCCESS
    scheduler = info.end_cause if info is not None else None
    if scheduler in _VERDICTS:
        return scheduler
    if state.ended:
        if info is not None and info.state.active:
            return None
        if state.exit_code is not None:
            return EndCause.EXIT_CODE
        return scheduler if scheduler in _STOPPED else EndCause.KILLED
    if scheduler in _STOPPED:
        return scheduler
    if info is None or info.state is JobState.GONE:
        return EndCause.LOST
    return None
