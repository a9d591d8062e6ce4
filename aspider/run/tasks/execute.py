"""
Carrying out a session's actions: the only place the plan touches XNAT and the cluster.

Each action is a short chain of steps (`submission`, `finalize`), and every failure is recorded on
the affected assessor (its `note`, and a status that never claims more than is true), never
dropped and never turned into COMPLETE. Errors we cannot even record (XNAT down) propagate to
the sweep, which reports the session and carries on with the others. Every status written is a
row of `aspider.plan.states.TRANSITIONS`.
"""

from __future__ import annotations

from typing import assert_never

from aspider.plan import (
    Action,
    CreateAssessor,
    Finalize,
    JobObservation,
    MarkFailed,
    RecordJob,
    Rerun,
    ResolveIntent,
    SetStatus,
    Submit,
    Task,
)
from aspider.plan.states import ProcStatus
from aspider.run.records.assessor_writes import Outcome, status_note
from aspider.run.records.ledger import WriteLedger
from aspider.run.tasks import finalize
from aspider.run.tasks.context import TaskContext
from aspider.run.tasks.submission import JobOptions, Submission, job_spec
from xnat_client import AssessorFields

__all__ = ["JobOptions", "Outcome", "SessionExecutor", "job_spec"]


def _absorbed(actions: tuple[Action, ...]) -> dict[str, CreateAssessor | SetStatus]:
    """
    label -> the write a submission of the same task makes needless.

    The plan creates a task (or sets it) NEED_TO_RUN, and, where the queue has room, submits
    it: the submission's intent write sets every field the first write would, so the two are
    one write. A task whose submission waits for room keeps its first write.
    """
    submitted = {a.task.label for a in actions if isinstance(a, Submit)}
    return {
        a.task.label: a
        for a in actions
        if isinstance(a, CreateAssessor | SetStatus)
        and a.procstatus is ProcStatus.NEED_TO_RUN
        and a.task.label in submitted
    }


class SessionExecutor:
    """Runs one session's actions in order; one instance per session coroutine."""

    def __init__(self, context: TaskContext) -> None:
        self.context = context
        self.xnat = context.xnat
        self.backend = context.backend
        self.outcome = context.outcome
        self.transfers = context.transfers
        self.records = context.records()
        self.completed: set[str] = set()  # proctypes of the tasks this executor completed

    @property
    def ledger(self) -> WriteLedger:
        """What this executor wrote, for the session's chain."""
        return self.records.ledger

    async def run(self, actions: tuple[Action, ...]) -> None:
        prepared = _absorbed(actions)
        for action in actions:
            if isinstance(action, CreateAssessor | SetStatus) and action in prepared.values():
                continue  # written by its submission, with the intent
            await self._dispatch(action, prepared)

    async def _dispatch(
        self, action: Action, prepared: dict[str, CreateAssessor | SetStatus]
    ) -> None:
        match action:
            case CreateAssessor():
                await self.records.create(action.task, action.procstatus, action.reason)
            case SetStatus():
                await self.set_status(action)
            case Submit():
                made = prepared.get(action.task.label)
                await Submission(self.context, self.records, action, made).run()
            case ResolveIntent():
                await self.resolve_intent(action)
            case RecordJob():
                await self.record_job(action.task, action.assessor.id, action.observation)
            case Finalize():
                if await finalize.finalize(self.records, self.backend, self.transfers, action):
                    self.completed.add(action.task.proctype)
            case MarkFailed():
                await finalize.mark_failed(self.records, self.backend, action)
            case Rerun():
                await finalize.rerun(self.records, self.backend, action)
            case _:
                assert_never(action)

    async def set_status(self, action: SetStatus) -> None:
        fields = status_note(action.procstatus, action.reason)
        await self.records.write(action.task, action.assessor.id, fields)
        if action.procstatus is ProcStatus.NEED_INPUTS:
            self.outcome.add(action.task, "waiting")
        else:
            self.outcome.moved_on(action.task)

    async def resolve_intent(self, action: ResolveIntent) -> None:
        found = await self.backend.observe({action.task.label: ""})
        obs = found.get(action.task.label)
        if obs is not None and obs.job_id and obs.scheduler_state in ("queued", "running"):
            await self.record_job(action.task, action.assessor.id, obs)

    async def record_job(self, task: Task, assessor_id: str, obs: JobObservation) -> None:
        fields = AssessorFields(jobid=obs.job_id or "", jobnode=obs.node, note="")
        await self.records.write(task, assessor_id, fields)
        self.outcome.add(task, "adopted", job_id=obs.job_id or "")
