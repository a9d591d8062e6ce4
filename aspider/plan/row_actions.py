"""
The action each planner row asks for (`Transition.actions`), built by one function per kind.

`SUBMIT` and `RETRY` are not here: the planner queues a submission for them under the queue
limits (`aspider.plan.queue`) instead of acting at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aspider.plan.actions import (
    Action,
    CreateAssessor,
    Finalize,
    JobObservation,
    MarkFailed,
    RecordJob,
    Rerun,
    ResolveIntent,
    SetStatus,
)
from aspider.plan.endings import closed, failure_reason
from aspider.plan.states import QC_RERUN, ActionKind, ProcStatus, Reason, normalise_procstatus
from aspider.plan.tasks import Task, TaskCandidate
from xnat_client.models import Assessor


@dataclass(frozen=True)
class ActionInputs:
    """What a row's action is built from."""

    task: Task
    a: Assessor | None
    cand: TaskCandidate | None
    reason: str
    obs: JobObservation | None
    no_retry: str | None = None

    @property
    def assessor(self) -> Assessor:
        assert self.a is not None  # every row but `create` starts from an assessor
        return self.a

    @property
    def ready(self) -> bool:
        return self.cand is not None and self.cand.ready


def _create(x: ActionInputs) -> Action:
    status = ProcStatus.NEED_TO_RUN if x.ready else ProcStatus.NEED_INPUTS
    return CreateAssessor(x.task, status, x.reason)


def _set_status(x: ActionInputs) -> Action:
    status = ProcStatus.NEED_TO_RUN if x.ready else ProcStatus.NEED_INPUTS
    return SetStatus(x.task, x.assessor, status, x.reason)


def _resolve_intent(x: ActionInputs) -> Action:
    return ResolveIntent(x.task, x.assessor)


def _record_job(x: ActionInputs) -> Action:
    assert x.obs is not None
    return RecordJob(x.task, x.assessor, x.obs)


def _finalize(x: ActionInputs) -> Action:
    task, a, obs = x.task, x.assessor, x.obs
    if obs is not None and obs.exit_code not in (None, 0):
        return MarkFailed(closed(task, a, obs), a, failure_reason(task, a, obs), obs)
    return Finalize(closed(task, a, obs), a, obs)


def _mark_failed(x: ActionInputs) -> Action:
    task, a, obs = x.task, x.assessor, x.obs
    why = failure_reason(task, a, obs)
    if x.no_retry is not None:
        why = Reason.RETRIES_USED_UP.format(ended=why, why=x.no_retry)
    return MarkFailed(closed(task, a, obs), a, why, obs)


def _rerun(x: ActionInputs) -> Action:
    a = x.assessor
    by_qc = (
        a.qcstatus in QC_RERUN and normalise_procstatus(a.procstatus) is not ProcStatus.NEED_TO_RUN
    )
    text = Reason.RERUN_QC.format(qc=a.qcstatus) if by_qc else Reason.RERUN_BY_HAND
    return Rerun(x.task, a, text)


#: The planner's actions that stand alone (`SUBMIT` and `RETRY` queue a submission instead).
BUILD: dict[ActionKind, Callable[[ActionInputs], Action]] = {
    ActionKind.CREATE: _create,
    ActionKind.SET_STATUS: _set_status,
    ActionKind.RESOLVE_INTENT: _resolve_intent,
    ActionKind.RECORD_JOB: _record_job,
    ActionKind.FINALIZE: _finalize,
    ActionKind.MARK_FAILED: _mark_failed,
    ActionKind.RERUN: _rerun,
}
