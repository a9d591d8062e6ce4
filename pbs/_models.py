"""
What the driver reports: the scheduler's view of a job (JobInfo), the job directory's
(JobDirState), and why a job ended (EndCause). The directory is the truth about the exit code;
the scheduler knows why a job was stopped (a limit, a cancellation, a node failure).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from ._names import element_rank


class JobState(enum.Enum):
    """A scheduler state, reduced to what a caller acts on."""

    QUEUED = "queued"
    RUNNING = "running"
    EXITING = "exiting"
    COMPLETED = "completed"
    HELD = "held"
    SUSPENDED = "suspended"
    GONE = "gone"  # the server no longer knows the id (purged, or never existed)
    UNKNOWN = "unknown"  # a state letter this driver does not know

    @property
    def active(self) -> bool:
        """The job may still run (or is running): not completed, not gone."""
        return self not in (JobState.COMPLETED, JobState.GONE)


class EndCause(enum.Enum):
    """
    Why a job ended. The values are the words a retry policy names (`memory`, `walltime`,
    `node_failure`, ...), so a setting can list them as they are.
    """

    SUCCESS = "success"  # the command exited 0
    EXIT_CODE = "exit_code"  # the command exited non-zero
    MEMORY = "memory"  # killed for using more memory than it asked for
    WALLTIME = "walltime"  # killed at its time limit (wall or CPU time)
    CANCELLED = "cancelled"  # qdel / scancel, by its owner or an administrator
    PREEMPTED = "preempted"  # stopped to make room for other work
    NODE_FAILURE = "node_failure"  # its node failed, or failed to boot
    KILLED = "killed"  # ended by a signal, with no reason given
    SCHEDULER = "scheduler"  # the scheduler could not start or run it
    LOST = "lost"  # the scheduler no longer knows it and its directory shows no end


# Torque and PBS Pro letters; F and X only exist on PBS Pro, C only on Torque.
STATE_LETTERS: dict[str, JobState] = {
    "Q": JobState.QUEUED,
    "W": JobState.QUEUED,
    "T": JobState.QUEUED,
    "R": JobState.RUNNING,
    "B": JobState.RUNNING,
    "E": JobState.EXITING,
    "C": JobState.COMPLETED,
    "F": JobState.COMPLETED,
    "X": JobState.COMPLETED,
    "H": JobState.HELD,
    "S": JobState.SUSPENDED,
    "U": JobState.SUSPENDED,
    "M": JobState.GONE,  # moved to another server: not ours to follow
}


@dataclass(frozen=True)
class JobInfo:
    """
    One job as the scheduler reports it.

    Fields a format does not provide are None (the Slurm wrappers report neither
    `exit_status` nor `resources_used`). `end_cause` is the scheduler's own account of an ended
    job (None while it runs, or when the scheduler does not say); `exit_signal` the signal
    that ended the job's top process, where the scheduler reports one.
    """

    job_id: str
    state: JobState
    name: str | None = None
    raw_state: str | None = None
    queue: str | None = None
    exec_host: str | None = None
    exit_status: int | None = None
    walltime_used: timedelta | None = None
    memory_used_bytes: int | None = None
    end_cause: EndCause | None = None
    exit_signal: int | None = None
    # What the job used of its CPUs, and what it asked for, where the scheduler keeps them
    # (sacct's TotalCPU, AllocCPUS, ReqMem and Timelimit; PBS's resources_used.cput and
    # Resource_List): what right-sizing learns from.
    cpu_time: timedelta | None = None
    cpus: int | None = None
    memory_requested_bytes: int | None = None
    walltime_requested: timedelta | None = None

    @property
    def cpu_efficiency(self) -> float | None:
        """CPU time over elapsed time times cores (1.0: every core busy all the time)."""
        if not (self.cpu_time is not None and self.walltime_used and self.cpus):
            return None
        return self.cpu_time / (self.walltime_used * self.cpus)


def job_rank(info: JobInfo) -> tuple[bool, tuple[int, int]]:
    """Order among jobs of one name: an active one first, then the newest (array elements too)."""
    return (info.state.active, element_rank(info.job_id))


@dataclass(frozen=True)
class JobDirState:
    """
    What the job's wrapper left in `<job dir>/status/`.

    `exit_code` is the command's exit status, written atomically when it ends. A job killed
    by a signal the wrapper can trap (the scheduler's SIGTERM at walltime) leaves `finished`
    and `signal` but no `exit_code`; one killed by SIGKILL leaves neither.
    """

    exists: bool
    started: datetime | None = None
    exit_code: int | None = None
    finished: datetime | None = None
    signal: str | None = None
    cpu_seconds: int | None = None  # CPU the command used, as the wrapper's `times` counted it

    @property
    def ended(self) -> bool:
        """The wrapper recorded an end (normal or by a trapped signal)."""
        return self.exit_code is not None or self.finished is not None


@dataclass(frozen=True)
class JobPoll:
    """
    One poll's answer: jobs by the ids asked for (an unknown id is `JobState.GONE`), and jobs
    found by name (a name with no job is absent).
    """

    by_id: dict[str, JobInfo]
    by_name: dict[str, JobInfo]
