"""
Chaining within a sweep: a session whose upstream task just completed is planned again at once.

A sweep plans from the snapshot it took at its start, when an upstream assessor that this sweep
finalizes was still JOB_RUNNING; its downstream task is then created NEED_INPUTS, and only the
next sweep sees the upstream COMPLETE and submits it. For a nightly sweep that is a day per
level of a pipeline chain. So after a session's actions have completed an upstream task, the
session as it now stands (the snapshot's, with this sweep's own writes applied: no request,
see `aspider.run.records.ledger`) is planned for the processors downstream of what completed; their
creates, status changes and submissions run in the same sweep.

Only session- and scan-level processors are chained (the session is the scope). Submissions
share the sweep's queue room: `QueueRoom` is what the sweep's plan left under
`max_queued`; with per-processor limits in force, chained tasks are created or readied here
and submitted by the next sweep, where the planner applies those limits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from aspider.plan import Plan, PlanLimits, SessionPlan, plan_projects
from aspider.plan.actions import Action, CreateAssessor, Finalize
from aspider.plan.states import ProcStatus
from aspider.processors import Processor
from aspider.run.records.run_queue import RunQueue
from aspider.run.tasks.execute import SessionExecutor
from xnat_client import ProjectSnapshot, Session

log = logging.getLogger("aspider.run.tasks.chain")

_CHAINED = ("create", "set_status", "submit")


@dataclass
class QueueRoom:
    """
    Submissions the sweep may still make (None: no limit); taken without an await. With a run's
    one budget (`queue`), what the other projects hold is counted at each take.
    """

    left: int | None
    per_processor_limits: bool
    project: str = ""
    limits: PlanLimits | None = None
    queue: RunQueue | None = None

    @classmethod
    def after(
        cls,
        plan: Plan,
        processors: Sequence[Processor],
        limits: PlanLimits,
        queue: RunQueue | None = None,
        project: str = "",
    ) -> QueueRoom:
        own, _ = plan.queued_after()
        left = None if limits.max_queued is None else limits.max_queued - own - limits.elsewhere
        per = limits.max_queued_per_processor is not None or any(
            p.max_queued is not None for p in processors
        )
        return cls(left, per, project, limits, queue)

    def take(self, proctype: str = "") -> bool:
        if self.per_processor_limits:
            return False
        if self.queue is not None and self.limits is not None and self.left is not None:
            others = self.queue.limits_for(self.project, self.limits).elsewhere
            own = self.queue.holds(self.project)
            self.left = (self.limits.max_queued or 0) - own - others
        if self.left is not None and self.left <= 0:
            return False
        if self.left is not None:
            self.left -= 1
        if self.queue is not None:
            self.queue.took(self.project, proctype)
        return True


def downstream_of(completed: set[str], processors: Sequence[Processor]) -> list[Processor]:
    """The session- and scan-level processors that take a completed proctype as an input."""
    return [
        p for p in processors if p.level in ("scan", "session") and p.upstream_proctypes & completed
    ]


def leave_to_chain(plan: SessionPlan, processors: Sequence[Processor]) -> SessionPlan:
    """
    The session's plan without the NEED_INPUTS creates that its chain will make anyway.

    A downstream task whose upstream this session finalizes is planned as a NEED_INPUTS create
    (the snapshot still shows the upstream running), and the chain sets it NEED_TO_RUN moments
    later: two writes where one does. Left to the chain, it is created ready. If the finalize
    fails there is no chain, and the next sweep creates it NEED_INPUTS as before.
    """
    finalizing = {a.task.proctype for a in plan.actions if isinstance(a, Finalize)}
    if not finalizing:
        return plan
    chained = {p.proctype for p in downstream_of(finalizing, processors)}
    kept = tuple(
        a
        for a in plan.actions
        if not (
            isinstance(a, CreateAssessor)
            and a.procstatus is ProcStatus.NEED_INPUTS
            and a.task.proctype in chained
        )
    )
    return plan if len(kept) == len(plan.actions) else replace(plan, actions=kept)


async def chain_session(
    executor: SessionExecutor,
    session: SessionPlan,
    before: Session,
    *,
    project: str,
    processors: Sequence[Processor],
    room: QueueRoom,
    container_dir: str | None,
    limits: PlanLimits,
) -> None:
    """
    Plan the session again for what its completed tasks unblock, and do it. `limits` carries
    the sweep's retry policy and right-sizing (its requests, worked out from the whole
    project); the queue is `room`'s.
    """
    downstream = downstream_of(executor.completed, processors)
    if not downstream:
        return
    fresh = executor.ledger.updated(before)
    snapshot = ProjectSnapshot(project=project, sessions=(fresh,))
    chained = PlanLimits(retry=limits.retry, tune=limits.tune, suggestions=limits.suggestions)
    plan = await plan_projects([snapshot], downstream, (), chained, container_dir)
    actions: list[Action] = [
        a
        for a in plan.actions()
        if a.kind in _CHAINED and (a.kind != "submit" or room.take(a.task.proctype))
    ]
    if actions:
        log.info("session %s: %d chained action(s)", session.session_label, len(actions))
        await executor.run(tuple(actions))
