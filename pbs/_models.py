"""
What the driver reports: the scheduler's view of a job (JobInfo) and the job directory's
(JobDirState). The directory is the truth about the outcome; the scheduler's state is a hint.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


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
    `exit_status` nor `resources_used`).
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

    @property
    def ended(self) -> bool:
        """The wrapper recorded an end (normal or by a trapped signal)."""
        return self.exit_code is not None or self.finished is not None
