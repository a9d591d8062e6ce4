"""
What the engine needs from wherever jobs run, and the one way an observation is made.

The engine sees one small interface, `JobBackend`: submit a job, observe many jobs at once,
and a transport to stage files in job directories. Observing costs a fixed number of round
trips whatever the number of jobs: one scheduler query for the jobs with an id, one for
recorded intents (looked up by name), and one read of every job directory's `status/` files.

The scheduler's state is a hint, the job directory is the truth: a job whose `status/exit_code`
exists has ended with that code, whatever the scheduler says.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Protocol

from aspider.plan.actions import JobObservation, SchedulerState
from aspider.processors import format_duration
from pbs import (
    ArraySpec,
    JobDirState,
    JobInfo,
    JobSpec,
    JobState,
    JobTemplate,
    Transport,
    end_cause,
    job_dirs,
    job_name,
)

_STATES: dict[JobState, SchedulerState] = {
    JobState.QUEUED: "queued",
    JobState.HELD: "queued",
    JobState.SUSPENDED: "queued",
    JobState.RUNNING: "running",
    JobState.EXITING: "running",
    JobState.COMPLETED: "completed",
    JobState.GONE: "gone",
    JobState.UNKNOWN: "unknown",
}


@dataclass(frozen=True)
class ArrayPolicy:
    """
    How a backend whose scheduler runs job arrays groups a sweep's submissions
    (`cluster.arrays`, `array_max`, `array_parallel`): at most `max_elements` elements per
    array, at most `parallel` of them running at once (None: as the scheduler pleases).
    """

    max_elements: int = 1000
    parallel: int | None = None


class JobBackend(Protocol):
    """What the engine needs from wherever jobs run."""

    transport: Transport
    work_root: PurePosixPath
    name: str
    #: How submissions are grouped into job arrays; None: each job on its own.
    arrays: ArrayPolicy | None

    async def submit(self, spec: JobSpec, template: JobTemplate | None = None) -> str:
        """
        Write the job directory and start or queue the job; return its id. `template` is the
        processor's DAX job template: a backend that cannot render one writes its own script
        (and the run said so at its start, `jobtemplates.run_notices`).
        """
        ...

    async def submit_array(
        self, array: ArraySpec, template: JobTemplate | None = None
    ) -> list[str]:
        """Queue a job array (`arrays` backends); its elements' ids, in order."""
        ...

    async def observe(self, jobs: Mapping[str, str]) -> dict[str, JobObservation]:
        """Observations by label for label -> job id ("" for a recorded intent)."""
        ...

    async def cancel(self, job_ids: list[str]) -> None: ...

    async def release(self, jobs: Mapping[str, str]) -> None:
        """
        Let jobs submitted held (`JobSpec.hold`; job name -> id) start, then forget their
        markers. Raises the backend's error when they were not released (markers kept).
        """
        ...

    async def release_arrays(self, jobs: Mapping[str, str]) -> None:
        """
        Let whole held arrays start (job name -> element id of every element), then forget
        their markers; as `release`, in one command per batch of arrays.
        """
        ...

    async def forget_held(self, names: Iterable[str]) -> None:
        """Forget the markers of jobs no longer held: released, ended or gone."""
        ...

    async def held_jobs(self) -> dict[str, str]:
        """job name -> id of every job this work root submitted held and has not released."""
        ...


def job_dir(backend: JobBackend, label: str) -> PurePosixPath:
    """
    `<work root>/<job name>`: the task's job directory, named as its job is (`job_name`:
    the label itself, or a stable short form of a label too long or unsafe for a scheduler).
    """
    return job_dirs(backend.work_root, [job_name(label)])[job_name(label)]


def job_names(labels: Iterable[str]) -> dict[str, str]:
    """label -> job name, for every label (see `job_dir`)."""
    return {label: job_name(label) for label in labels}


def _elapsed(started: datetime | None, finished: datetime | None) -> str | None:
    """Wall time as HH:MM:SS: elapsed time, which is what a person reads as 'walltime used'."""
    if started is None or finished is None:
        return None
    return format_duration(int((finished - started).total_seconds()))


def _memory(info: JobInfo | None) -> str | None:
    if info is None or info.memory_used_bytes is None:
        return None
    return f"{info.memory_used_bytes / 1024**2:.0f} MB"


def combine(label: str, info: JobInfo | None, state: JobDirState) -> JobObservation:
    """
    One observation from the scheduler's view and the job directory's.

    A job the scheduler calls completed whose directory shows no end yet is `unknown` (files on
    a shared filesystem may lag): it is looked at again next sweep, and becomes `gone` once the
    scheduler forgets it. Why it ended is `pbs.end_cause` of the two views.
    """
    sched: SchedulerState = _STATES[info.state] if info is not None else "gone"
    if sched == "completed" and not state.ended:
        sched = "unknown"
    cause = end_cause(info, state)
    return JobObservation(
        label=label,
        scheduler_state=sched,
        exit_code=state.exit_code,
        job_id=info.job_id if info is not None else None,
        started=state.started,
        finished=state.finished,
        node=(info.exec_host or None) if info is not None else None,
        walltime=_elapsed(state.started, state.finished),
        memory=_memory(info),
        dir_exists=state.exists,
        end_cause=cause.value if cause is not None else None,
        **_usage(info, state),
    )


def _usage(info: JobInfo | None, state: JobDirState) -> dict[str, int | None]:
    """What the job used, in numbers: its own clock, the scheduler's memory, CPU and cores."""
    elapsed = None
    if state.started is not None and state.finished is not None:
        elapsed = int((state.finished - state.started).total_seconds())
    if info is None:
        return {"walltime_seconds": elapsed, "cpu_seconds": state.cpu_seconds}
    peak = info.memory_used_bytes
    cpu = info.cpu_time
    return {
        "memory_mb": None if peak is None else math.ceil(peak / 1024**2),
        "walltime_seconds": elapsed,
        # the scheduler's account, else the wrapper's own (the local executor has no other)
        "cpu_seconds": state.cpu_seconds if cpu is None else int(cpu.total_seconds()),
        "cpus": info.cpus,
    }
