"""
One sweep of one project: lease -> snapshot -> poll -> plan -> execute.

The snapshot is a constant number of XNAT requests; the poll a constant number of round trips
to the cluster; planning is pure; execution is one coroutine per session in one task group,
bounded by the client's HTTP limit and a transfer limiter. A session that fails is reported and
never stops the others.
"""

from __future__ import annotations

import difflib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

import anyio

from aspider._exceptions import AspiderError, only_failure
from aspider._gc import thawed_after
from aspider.plan import Plan, PlanLimits, SessionPlan, match_snapshots
from aspider.plan import plan as plan_sweep
from aspider.plan.actions import JobObservation
from aspider.plan.settled import SettledMemo
from aspider.plan.states import IN_FLIGHT, ProcStatus, normalise_procstatus
from aspider.processors import Processor
from aspider.run.backends import JobBackend, prune_job_dirs
from aspider.run.lease.holder import LeaseStore, project_lease
from aspider.run.lease.in_work_root import FileLeaseStore
from aspider.run.lease.in_xnat import XnatLeaseStore, XnatOrFilesLeaseStore
from aspider.run.records.run_queue import RunQueue
from aspider.run.records.settled_store import load_memo, save_memo
from aspider.run.records.workflow_history import History
from aspider.run.tasks.arrays import SubmissionArrays
from aspider.run.tasks.chain import QueueRoom, chain_session, leave_to_chain
from aspider.run.tasks.context import TaskContext
from aspider.run.tasks.execute import JobOptions, Outcome, SessionExecutor
from aspider.run.tasks.held_jobs import jobs_recorded, settle_held_jobs
from aspider.run.tasks.transfers import TransferLimit
from aspider.settings import (
    DEFAULT_KEEP_FAILED_DAYS,
    DEFAULT_SESSIONS_AT_ONCE,
    DEFAULT_TRANSFERS,
)
from pbs import PbsError
from xnat_client import ProjectSnapshot, Session, XnatClient, XnatError

log = logging.getLogger("aspider.run.sweep")


@dataclass(frozen=True)
class SweepOptions:
    limits: PlanLimits = field(default_factory=PlanLimits)
    job_options: JobOptions = field(default_factory=JobOptions)
    container_dir: str | None = None
    sessions: tuple[str, ...] = ()  # session labels to restrict to; empty: all
    lease_ttl: float = 300.0
    transfers: int = DEFAULT_TRANSFERS
    # Sessions worked on at once. All of them at once queue every session's first request
    # ahead of everyone's later steps, so job launches bunch up at the end of the sweep; a
    # few times the HTTP limit keeps requests, launches and uploads overlapping.
    sessions_at_once: int = DEFAULT_SESSIONS_AT_ONCE
    keep_failed_days: float = DEFAULT_KEEP_FAILED_DAYS
    chain: bool = True  # plan a session again when its upstream task completes (run.tasks.chain)
    # With --wait, a sweep that XNAT or the cluster failed is tried again at the next interval;
    # this many failed sweeps in a row end the run (an outage, not a blip).
    failed_sweeps_in_a_row: int = 5
    history: bool = True  # a workflow entry per transition in XNAT (xnat.history)
    # The run's or service's one queue budget across projects (None: this project alone).
    queue: RunQueue | None = None


@dataclass
class SweepReport:
    project: str
    plan: Plan
    outcome: Outcome
    observations: dict[str, JobObservation] = field(default_factory=dict)
    session_errors: list[tuple[str, str]] = field(default_factory=list)
    requests: int = 0
    pruned: list[str] = field(default_factory=list)  # failed job directories removed
    states: dict[str, int] = field(default_factory=dict)  # our tasks by procstatus, at the start
    sessions_missing: str = ""  # the sessions the run named that this project lacks, in words

    @property
    def active(self) -> int:
        """Jobs still queued or running after this sweep (including those it submitted)."""
        waiting = sum(
            1
            for o in self.observations.values()
            if o.end_cause is None and o.scheduler_state in ("queued", "running", "unknown")
        )
        submitted = sum(n for (_, what), n in self.outcome.counts.items() if what == "submitted")
        return waiting + submitted + len(self.plan.deferred)

    @property
    def failed(self) -> bool:
        """Tasks this sweep failed (JOB_FAILED), or sessions it could not finish."""
        return bool(self.outcome.failures or self.session_errors)


class SweepsFailed(AspiderError):
    """
    XNAT or the cluster failed a project's sweep (with --wait: several sweeps in a row).

    `reports` holds what the sweeps before it did, so a run's summary still counts it.
    """

    def __init__(self, project: str, cause: XnatError | PbsError, reports: list[SweepReport]):
        where = "XNAT" if isinstance(cause, XnatError) else "cluster"
        super().__init__(f"project {project}: {where}: {cause}")
        self.project = project
        self.cause = cause
        self.reports = reports


def lease_store(xnat: XnatClient, backend: JobBackend, project: str) -> LeaseStore:
    """Where the project's lease is kept: in XNAT, or the work root if XNAT refuses."""
    files = FileLeaseStore(backend.transport, str(backend.work_root), project)
    return XnatOrFilesLeaseStore(XnatLeaseStore(xnat, project), files)


def restrict(snapshot: ProjectSnapshot, sessions: Sequence[str]) -> ProjectSnapshot:
    """The snapshot with only the named sessions (by label or ID)."""
    if not sessions:
        return snapshot
    wanted = set(sessions)
    kept = tuple(s for s in snapshot.sessions if s.label in wanted or s.id in wanted)
    return snapshot.model_copy(update={"sessions": kept})


def unknown_sessions(snapshots: Sequence[ProjectSnapshot], sessions: Sequence[str]) -> str:
    """
    The sessions named that none of the projects has, with the nearest labels they do have;
    "" when every one is there. A misspelt `--session` must not read as "nothing to do".
    """
    labels = [s.label for snap in snapshots for s in snap.sessions]
    known = set(labels) | {s.id for snap in snapshots for s in snap.sessions}
    missing = [name for name in sessions if name not in known]
    if not missing:
        return ""
    projects = ", ".join(snap.project for snap in snapshots)
    said = []
    for name in missing:
        close = difflib.get_close_matches(name, labels, n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        said.append(f"session {name!r} is not in {projects}{hint}")
    return "; ".join(said)


def snapshot_needs(processors: Sequence[Processor]) -> dict[str, bool]:
    """The snapshot's optional listings these processors need (PET tracers, subject assessors)."""
    return {
        "tracers": any(p.reads_tracers for p in processors),
        "subject_assessors": any(p.level == "subject" for p in processors),
    }


def jobs_to_observe(snapshot: ProjectSnapshot, processors: Sequence[Processor]) -> dict[str, str]:
    """label -> job id ("" for a recorded intent) of every assessor whose job we follow."""
    proctypes = {p.proctype for p in processors}
    jobs: dict[str, str] = {}
    for _, a in snapshot.every_assessor():
        if a.proctype in proctypes and normalise_procstatus(a.procstatus) in IN_FLIGHT:
            jobs[a.label] = a.jobid
    return jobs


async def sweep_project(
    xnat: XnatClient,
    backend: JobBackend,
    project: str,
    processors: Sequence[Processor],
    options: SweepOptions = SweepOptions(),
    on_plan: Callable[[Plan], None] | None = None,
    on_session: Callable[[SessionPlan], None] | None = None,
) -> SweepReport:
    """Sweep one project while holding its lease (LeaseHeld if another sweep has it)."""
    return await _sweep(
        SweepContext(xnat, backend, project, processors, options, on_plan, on_session)
    )


@dataclass(frozen=True)
class SweepContext:
    """One project's sweep: whom it talks to, what it runs and how, and whom it tells."""

    xnat: XnatClient
    backend: JobBackend
    project: str
    processors: Sequence[Processor]
    options: SweepOptions
    on_plan: Callable[[Plan], None] | None = None
    on_session: Callable[[SessionPlan], None] | None = None


async def _sweep(ctx: SweepContext) -> SweepReport:
    with thawed_after():  # what reading the snapshot froze is collectable once the sweep ends
        return await _sweep_held(ctx)


async def _sweep_held(ctx: SweepContext) -> SweepReport:
    xnat, backend, project, processors = ctx.xnat, ctx.backend, ctx.project, ctx.processors
    options, on_plan, on_session = ctx.options, ctx.on_plan, ctx.on_session
    root = str(backend.work_root)
    before = xnat.requests_sent
    async with project_lease(lease_store(xnat, backend, project), project, ttl=options.lease_ttl):
        remembered = await load_memo(backend.transport, root, project)
        memo = SettledMemo(previous=remembered)
        needs = snapshot_needs(processors)
        whole = await xnat.project_snapshot(project, **needs)
        snapshot = restrict(whole, options.sessions)
        followed = jobs_to_observe(snapshot, processors)
        observations = await backend.observe(followed)
        recorded = jobs_recorded(snapshot, [p.proctype for p in processors])
        held = await settle_held_jobs(backend, followed, observations, recorded)
        matches = await match_snapshots([snapshot], processors, skip_settled=True, memo=memo)
        # From here to the record, no await: the run's other projects cannot plan in between.
        limits = options.limits
        if options.queue is not None:
            limits = options.queue.limits_for(project, limits)
        plan = plan_sweep(
            [snapshot],
            matches,
            observations.values(),
            limits,
            options.container_dir,
            processors,
            memo,
        )
        if options.queue is not None:
            options.queue.record(project, plan)
        if on_plan is not None:
            on_plan(plan)
        report = SweepReport(project, plan, Outcome(), observations)
        report.sessions_missing = unknown_sessions([whole], options.sessions)
        report.states = _states(snapshot, processors)
        transfers = TransferLimit(options.transfers)
        chain = None
        if options.chain:
            room = QueueRoom.after(plan, processors, limits, options.queue, project)
            chain = partial(
                chain_session,
                project=project,
                processors=processors,
                room=room,
                container_dir=options.container_dir,
                limits=replace(limits, suggestions=plan.suggestions),
            )

        by_id = {s.id: s for s in snapshot.sessions}
        history = History(xnat, options.history)

        arrays = SubmissionArrays.for_plan(backend, plan, options.job_options)
        tasks = TaskContext(
            xnat, backend, report.outcome, options.job_options, transfers, history, held, arrays
        )

        async def run_one(session_plan: SessionPlan) -> None:
            if chain is not None:
                session_plan = leave_to_chain(session_plan, processors)
            executor = SessionExecutor(tasks)
            before = by_id.get(session_plan.session_id)
            await _run_session(executor, session_plan, report, on_session, chain, before)
            arrays.session_done(session_plan)

        busy_sessions = [s for s in plan.sessions if s.actions]
        async with arrays:  # job arrays go as their tasks are staged; all sent on leaving
            await _each_at_most(busy_sessions, options.sessions_at_once, run_one)
        report.session_errors += arrays.errors
        following = _next_memo(snapshot, memo, options)
        if following != remembered:  # a quiet night rewrites nothing
            await save_memo(backend.transport, root, project, following)
        busy = {a.task.label for a in plan.actions()}
        report.pruned = await _prune_failed(backend, snapshot, processors, options, busy)
        report.requests = xnat.requests_sent - before
        return report


def _states(snapshot: ProjectSnapshot, processors: Sequence[Processor]) -> dict[str, int]:
    """Our processors' tasks by procstatus as the sweep found them (for the live display)."""
    proctypes = {p.proctype for p in processors}
    counts = Counter(
        a.procstatus or "(none)" for _, a in snapshot.every_assessor() if a.proctype in proctypes
    )
    return dict(counts)


def _next_memo(
    snapshot: ProjectSnapshot, memo: SettledMemo, options: SweepOptions
) -> dict[str, str]:
    """
    What this sweep found settled; a sweep restricted to some sessions keeps the others' entries.

    A session acted on in this sweep is not in `found` (it was not settled when planned), so
    the next sweep checks it again.
    """
    if not options.sessions:
        return memo.found
    planned = {s.id for s in snapshot.sessions}
    kept = {sid: fp for sid, fp in memo.previous.items() if sid not in planned}
    return {**kept, **memo.found}


async def _prune_failed(
    backend: JobBackend,
    snapshot: ProjectSnapshot,
    processors: Sequence[Processor],
    options: SweepOptions,
    busy: set[str],
) -> list[str]:
    """
    Old failed job directories go, and leftovers of COMPLETE tasks; a task this sweep acted on
    (a rerun) keeps its own.
    """
    proctypes = {p.proctype for p in processors}
    by_status: dict[ProcStatus, list[str]] = {ProcStatus.JOB_FAILED: [], ProcStatus.COMPLETE: []}
    for s in snapshot.sessions:
        for a in s.assessors:
            status = normalise_procstatus(a.procstatus)
            if a.proctype in proctypes and a.label not in busy and status in by_status:
                by_status[status].append(a.label)
    try:
        return await prune_job_dirs(
            backend.transport,
            backend.work_root,
            by_status[ProcStatus.JOB_FAILED],
            options.keep_failed_days,
            complete=by_status[ProcStatus.COMPLETE],
        )
    except PbsError as exc:  # housekeeping: never fails a sweep
        log.warning("pruning job directories: %s", exc)
        return []


async def _each_at_most(
    items: Sequence[SessionPlan], workers: int, run: Callable[[SessionPlan], Awaitable[None]]
) -> None:
    """`run` every item, `workers` at a time, taken in order from one shared iterator."""
    pending = iter(items)

    async def worker() -> None:
        for item in pending:
            await run(item)

    async with anyio.create_task_group() as tg:
        for _ in range(min(workers, len(items))):
            tg.start_soon(worker)


async def _run_session(
    executor: SessionExecutor,
    plan: SessionPlan,
    report: SweepReport,
    on_session: Callable[[SessionPlan], None] | None,
    chain: Callable[[SessionExecutor, SessionPlan, Session], Awaitable[None]] | None = None,
    before: Session | None = None,
) -> None:
    """One session's actions (then its chained ones); a failure is reported, not raised."""
    try:
        await executor.run(plan.actions)
        if chain is not None and before is not None and executor.completed:
            await chain(executor, plan, before)
    except (XnatError, PbsError, OSError, ValueError) as exc:
        log.error("session %s: %s", plan.session_label, exc)
        report.session_errors.append((plan.session_label, str(exc)))
    except Exception as exc:  # a bug must not stop the other sessions either; it is reported
        log.exception("session %s: unexpected error", plan.session_label)
        report.session_errors.append((plan.session_label, f"unexpected error: {exc!r}"))
    finally:
        if on_session is not None:
            on_session(plan)


async def sweep_until_done(
    xnat: XnatClient,
    backend: JobBackend,
    project: str,
    processors: Sequence[Processor],
    options: SweepOptions = SweepOptions(),
    *,
    interval: float = 60.0,
    max_sweeps: int | None = None,
    on_report: Callable[[SweepReport], None] | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    on_session: Callable[[SessionPlan], None] | None = None,
) -> list[SweepReport]:
    """
    Sweep again and again until no job is queued or running (`aspider run --wait`).

    `interval` spaces the sweeps: each costs one batched poll, and schedulers ask clients not
    to poll in tight loops.
    """
    ctx = SweepContext(xnat, backend, project, processors, options, on_plan, on_session)
    reports: list[SweepReport] = []
    previous: list[tuple[str, str]] | None = None
    failed_in_a_row = 0
    while True:
        try:
            report = await _sweep(ctx)
        except Exception as exc:
            cause = only_failure(exc, (XnatError, PbsError))
            if not isinstance(cause, XnatError | PbsError):
                raise
            failed_in_a_row += 1
            out_of_sweeps = max_sweeps is not None and len(reports) + failed_in_a_row >= max_sweeps
            if out_of_sweeps or failed_in_a_row >= options.failed_sweeps_in_a_row:
                raise SweepsFailed(project, cause, reports) from exc
            log.warning("sweep of %s failed (%s); trying again in %gs", project, cause, interval)
            await anyio.sleep(interval)
            continue
        failed_in_a_row = 0
        reports.append(report)
        if on_report is not None:
            on_report(report)
        planned = _signature(report.plan)
        # Done when nothing is in the queue and the sweep found nothing new to do (or only
        # what it already failed to do last time: retrying that in a tight loop helps nobody).
        if report.active == 0 and (not planned or planned == previous):
            return reports
        if max_sweeps is not None and len(reports) >= max_sweeps:
            return reports
        previous = planned
        await anyio.sleep(interval)


def _signature(plan: Plan) -> list[tuple[str, str]]:
    return sorted((a.kind, a.task.label) for a in plan.actions())
