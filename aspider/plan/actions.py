"""
The planner's output: actions, a tagged union of frozen dataclasses (`kind` tells them apart).

Each action carries everything the executor needs without re-deriving: the task (label, ids,
resolved inputs, rendered command, requirements, outputs), the existing assessor when there is
one, the job observation it was decided on, and the reason to write to the assessor's `note`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from aspider.plan.states import ProcStatus
from aspider.plan.tasks import Task
from xnat_client.models import Assessor

SchedulerState = Literal["queued", "running", "completed", "gone", "unknown"]
#: Why a job ended: the values of `pbs.EndCause` (a test keeps the two equal).
JobEnd = Literal[
    "success",
    "exit_code",
    "memory",
    "walltime",
    "cancelled",
    "preempted",
    "node_failure",
    "killed",
    "scheduler",
    "lost",
]


@dataclass(frozen=True, slots=True)
class JobObservation:
    """
    What the executor learnt about one task's job (from the scheduler and `status/` files).

    `exit_code` is the truth when present (read from `status/exit_code`); `gone` means the
    scheduler no longer knows the job; `unknown` means it could not be asked this sweep.
    `end_cause` is why the job ended, the exit code weighed against the scheduler's account
    (`pbs.end_cause`): None while the job may still run, or while its end is not settled (a
    non-zero exit the scheduler has not yet explained, say, an out-of-memory kill).
    """

    label: str
    scheduler_state: SchedulerState
    exit_code: int | None = None
    job_id: str | None = None
    started: datetime | None = None
    finished: datetime | None = None
    node: str | None = None
    walltime: str | None = None
    memory: str | None = None
    end_cause: JobEnd | None = None
    # The same use in numbers, with the CPU time and cores where the scheduler accounts them
    # (what the attempt record keeps, and `aspider tune` learns from).
    memory_mb: int | None = None
    walltime_seconds: int | None = None
    cpu_seconds: int | None = None
    cpus: int | None = None
    # Whether the job's directory is in this engine's work root. An engine with another work
    # root (or on another cluster) sees the tasks another engine runs: without their
    # directories it must leave them to that engine, never call them failed or lost.
    dir_exists: bool = True


@dataclass(frozen=True, slots=True)
class CreateAssessor:
    """PUT the assessor with `procstatus` (NEED_TO_RUN, or NEED_INPUTS and `reason` as note)."""

    task: Task
    procstatus: ProcStatus
    reason: str
    kind: Literal["create"] = field(default="create", init=False)


@dataclass(frozen=True, slots=True)
class SetStatus:
    """Record a status change and/or a new reason (note) on an existing assessor."""

    task: Task
    assessor: Assessor
    procstatus: ProcStatus
    reason: str
    kind: Literal["set_status"] = field(default="set_status", init=False)


@dataclass(frozen=True, slots=True)
class Submit:
    """
    Stage the inputs and submit: qsub held, record JOB_RUNNING with the job id (creating the
    assessor so when a CreateAssessor precedes it in the plan, then `assessor` is None), then
    release the job (`aspider.run.tasks.submission`).

    `retry`: the task's job ran and was stopped, and this is its next attempt (`task.attempts`,
    with the scaled request): what the last job left in its directory (its status files, its
    outputs) is cleared, and its log set aside, before the new job is submitted.
    """

    task: Task
    assessor: Assessor | None
    reason: str = ""
    retry: bool = False
    kind: Literal["submit"] = field(default="submit", init=False)


@dataclass(frozen=True, slots=True)
class ResolveIntent:
    """JOB_RUNNING without a job id: look the job up by name (the label) and its exit code."""

    task: Task
    assessor: Assessor
    kind: Literal["resolve_intent"] = field(default="resolve_intent", init=False)


@dataclass(frozen=True, slots=True)
class RecordJob:
    """A recorded intent whose job was found: write its job id (and node/start) to XNAT."""

    task: Task
    assessor: Assessor
    observation: JobObservation
    kind: Literal["record_job"] = field(default="record_job", init=False)


@dataclass(frozen=True, slots=True)
class Finalize:
    """
    The job exited 0 (or an upload was interrupted): check the declared outputs, upload and
    verify them, then COMPLETE; JOB_FAILED with `Reason.JOB_NO_OUTPUTS` if none exist.
    """

    task: Task
    assessor: Assessor
    observation: JobObservation | None
    kind: Literal["finalize"] = field(default="finalize", init=False)


@dataclass(frozen=True, slots=True)
class MarkFailed:
    """Set JOB_FAILED with `reason` (exit code, or vanished); keep the job log for a person."""

    task: Task
    assessor: Assessor
    reason: str
    observation: JobObservation | None
    kind: Literal["mark_failed"] = field(default="mark_failed", init=False)


@dataclass(frozen=True, slots=True)
class Rerun:
    """Remove the outputs, clear the job fields, QC back to Job Pending, status NEED_TO_RUN."""

    task: Task
    assessor: Assessor
    reason: str
    kind: Literal["rerun"] = field(default="rerun", init=False)


Action = (
    CreateAssessor | SetStatus | Submit | ResolveIntent | RecordJob | Finalize | MarkFailed | Rerun
)
