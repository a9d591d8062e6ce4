"""
One project's worker: it alone sweeps its project, so two sweeps of one session never overlap.

Everything that wants a sweep only leaves word here: a POST (`hint`), the job poll (`jobs_ended`),
the nightly schedule (`request_full`). The worker's loop then, one step at a time: looks at the
project's `last_modified` listing when a poll is due or a hint or a settling session needs it
(one request), and runs one sweep: the full sweep if one was asked for, else the sessions that
settled or whose jobs ended. Sweeps of one project run one after another; a full sweep and a
session sweep never run at once, and each plans from a fresh snapshot, so the second sees what
the first created and never submits it again (the labels are hashes of the inputs, so a create
is the same PUT). Across processes (a cron `aspider run` on the same project) the project lease
decides: a sweep that finds it held is retried later, nothing is lost.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import anyio

from aspider._exceptions import AspiderError, LeaseHeld, only_failure
from aspider.plan import Plan, ProcStatus, SessionPlan, Submit, normalise_procstatus
from aspider.plan.actions import JobObservation
from aspider.processors import Processor
from aspider.run import JobBackend, SweepOptions, SweepReport, sweep_project
from aspider.serve import service_log
from aspider.serve.history import History, transitions
from aspider.serve.metrics import ServiceMetrics
from aspider.serve.watch import ChangeWatch
from pbs import PbsError
from xnat_client import ProjectSnapshot, XnatClient, XnatError

log = logging.getLogger("aspider.serve")

_RETRY = 15.0  # seconds before a sweep that failed (XNAT, the cluster, the lease) is tried again


# What a sweep is followed by (the service's notifications): the project, and the sweep's
# error (None: it swept).
AfterSweep = Callable[[str, Exception | None], Awaitable[None]]


@dataclass(frozen=True)
class WorkerConfig:
    poll_interval: float
    settle: float
    options: SweepOptions
    clock: Callable[[], float] = time.monotonic
    after_sweep: AfterSweep | None = None


@dataclass(frozen=True)
class SweepRecord:
    kind: str  # full, sessions
    at: str
    seconds: float
    sessions: int  # sessions named (0: the whole project)
    actions: int
    failed: bool


class ProjectWorker:
    """The single sweeper of one project (see the module docstring)."""

    def __init__(
        self,
        project: str,
        processors: Sequence[Processor],
        xnat: XnatClient,
        backend: JobBackend,
        config: WorkerConfig,
        metrics: ServiceMetrics,
    ) -> None:
        self.project = project
        self.processors = list(processors)
        self._xnat, self._backend, self._config, self._metrics = xnat, backend, config, metrics
        self.watch = ChangeWatch(config.settle)
        self.snapshot: ProjectSnapshot | None = None
        self.read_at = ""  # when `snapshot` was read
        self.observations: dict[str, JobObservation] | None = None
        self.history = History()
        self.sweeps: deque[SweepRecord] = deque(maxlen=50)
        self.stopping = False
        self._full = False
        self._ended: set[str] = set()  # session labels whose jobs ended
        self._next_poll = 0.0  # the first step looks at once: the baseline
        self._quiet_until = 0.0
        self._wake = anyio.Event()
        levels = {p.level for p in processors}
        self._whole_project = "project" in levels
        self._subjects = "subject" in levels

    # what others call (never awaits: a POST answers at once)

    def hint(self, name: str, *, subject: bool = False) -> None:
        self.watch.hint(name, self._config.clock(), subject=subject)
        self._wake.set()

    def request_full(self) -> None:
        self._full = True
        self._wake.set()

    def jobs_ended(self, sessions: set[str]) -> None:
        self._ended |= sessions
        self._wake.set()

    def resume_deferred(self, reason: str) -> None:
        """Sweep the sessions whose tasks wait for room in the queue (NEED_TO_RUN)."""
        waiting = deferred_sessions(self.snapshot, self.processors) - self._ended
        if waiting:
            service_log.work_resumed(self.project, sorted(waiting), reason)
            self._ended |= waiting
            self._wake.set()

    def stop(self) -> None:
        self.stopping = True
        self._wake.set()

    @property
    def busy(self) -> bool:
        return self._full or bool(self._ended) or bool(self.watch.pending or self.watch.hints)

    # the loop

    async def run(self) -> None:
        """Step until stopped; a step in flight (a sweep) finishes before the loop ends."""
        while not self.stopping:
            await self._wait()
            if not self.stopping:
                await self._step()

    async def refresh(self) -> None:
        """Read the project again for the status page (3 requests) and note its transitions."""
        snapshot = await self._xnat.project_snapshot(self.project, subject_assessors=True)
        at = _now()
        self.history.record(transitions(self.snapshot, snapshot, at))
        if self._config.options.history:  # at most 10 requests: the tasks changed last
            await self.history.read_steps(self._xnat, snapshot)
        self.snapshot, self.read_at = snapshot, at
        self._metrics.set_tasks(self.project, _matrix(snapshot, self.processors))

    def _has_work(self, now: float) -> bool:
        if now < self._quiet_until:
            return False
        return (
            self._full or bool(self._ended) or now >= self._next_poll or self.watch.needs_look(now)
        )

    async def _wait(self) -> None:
        self._wake = anyio.Event()  # cleared before the check: a wake-up is never lost
        now = self._config.clock()
        if self._has_work(now):
            return
        wake_at = min(self._next_poll, self.watch.next_wake() or float("inf"))
        wake_at = max(wake_at, self._quiet_until)
        with anyio.move_on_after(max(0.0, wake_at - now)):
            await self._wake.wait()

    async def _step(self) -> None:
        now = self._config.clock()
        looks = now >= self._next_poll or self.watch.needs_look(now)
        if looks and not await self._look(now):
            return
        due = self.watch.take_due()
        first_seen = {p.label: p.first_seen for p in due}
        if self._full:
            self._full = False
            await self._sweep("full", (), first_seen)
        elif due or self._ended:
            sessions = self._expand(
                {p.label for p in due} | self._ended, {p.subject_id for p in due}
            )
            self._ended = set()
            await self._sweep("sessions", sessions, first_seen)

    async def _look(self, now: float) -> bool:
        """One `last_modified` listing; False (and a pause) if XNAT did not answer."""
        try:
            rows = await self._xnat.session_changes(self.project)
        except XnatError as exc:
            log.warning("project %s: change poll: %s", self.project, exc)
            self._quiet_until = now + min(_RETRY, self._config.poll_interval)
            self._next_poll = now + self._config.poll_interval
            return False
        if now >= self._next_poll:
            self._next_poll = now + self._config.poll_interval
        pending_before = set(self.watch.pending)
        for name in self.watch.observe(rows, self._config.clock()):
            service_log.event_dropped(self.project, name)
        pending = self.watch.pending
        seen = sum(1 for sid in set(pending) - pending_before if pending[sid].cause == "change")
        if seen:
            self._metrics.events.labels("change").inc(seen)
        return True

    def _expand(self, labels: set[str], subject_ids: set[str]) -> tuple[str, ...]:
        """
        The sessions a sweep must see: with project-level processors the whole project (the
        snapshot costs the same); with subject-level ones every session of the subjects.
        """
        if self._whole_project:
            return ()
        if self._subjects:
            labels |= set(self.watch.subject_sessions(subject_ids))
        return tuple(sorted(labels))

    async def _sweep(
        self, kind: str, sessions: tuple[str, ...], first_seen: dict[str, float]
    ) -> None:
        options = replace(self._config.options, sessions=sessions)
        started, at = (
            self._config.clock(),
            datetime.now().astimezone().isoformat(timespec="seconds"),
        )
        self._metrics.sweeps.labels(self.project, kind).inc()
        service_log.sweep_started(self.project, kind, sessions)
        try:
            report = await sweep_project(
                self._xnat,
                self._backend,
                self.project,
                self.processors,
                options,
                on_plan=self._planned,
                on_session=lambda plan: self._submitted(plan, first_seen),
            )
        except Exception as exc:  # noqa: BLE001  (logged by _not_done; tried again later)
            self._not_done(kind, self._config.clock() - started, exc)
            self._again_later(kind, sessions)
            await self._after(exc)
            return
        seconds = self._config.clock() - started
        service_log.sweep_ended(self.project, kind, seconds, report)
        self._metrics.sweep_seconds.labels(kind).observe(seconds)
        self._count(report)
        acted = bool(report.plan.actions()) or report.failed
        self.sweeps.append(
            SweepRecord(kind, at, seconds, len(sessions), len(report.plan.actions()), report.failed)
        )
        if acted or kind == "full" or self.snapshot is None:
            await self.refresh_quietly()
            await self._after(None)

    async def _after(self, error: Exception | None) -> None:
        """What follows a sweep that acted or failed (notifications); never raises."""
        if self._config.after_sweep is None:
            return
        try:
            await self._config.after_sweep(self.project, error)
        except Exception:  # a notification must never stop the project's sweeps
            log.exception("project %s: after its sweep", self.project)

    def _planned(self, plan: Plan) -> None:
        """The plan's deferred tasks, with the limits it planned with (no await since)."""
        if not plan.deferred:
            return
        options = self._config.options
        limits = options.limits
        if options.queue is not None:
            limits = options.queue.limits_for(self.project, limits)
        service_log.work_deferred(self.project, plan, limits, self.processors)

    def _not_done(self, kind: str, seconds: float, exc: Exception) -> None:
        """A failed sweep's record: a held lease is news, XNAT or the cluster an error."""
        known = only_failure(exc, (XnatError, PbsError, AspiderError, OSError))
        if known is None:  # a bug: reported with its traceback
            reason = f"unexpected error: {exc!r}"
            service_log.sweep_not_done(self.project, kind, seconds, reason, logging.ERROR, bug=True)
            return
        level = logging.INFO if isinstance(known, LeaseHeld) else logging.ERROR
        service_log.sweep_not_done(self.project, kind, seconds, str(known), level)

    def _submitted(self, plan: SessionPlan, first_seen: dict[str, float]) -> None:
        """Latency from the event (or seen change) to the session's submission."""
        seen = first_seen.get(plan.session_label)
        if seen is not None and any(isinstance(a, Submit) for a in plan.actions):
            self._metrics.latency.observe(self._config.clock() - seen)

    def _count(self, report: SweepReport) -> None:
        for (proctype, what), n in report.outcome.counts.items():
            self._metrics.actions.labels(self.project, proctype, what).inc(n)
        if report.failed:
            self._metrics.sweep_failures.labels(self.project, "report").inc()

    def _again_later(self, kind: str, sessions: tuple[str, ...]) -> None:
        """A sweep that could not run is tried again later; nothing it was asked for is lost."""
        self._metrics.sweep_failures.labels(self.project, kind).inc()
        if kind == "full" or not sessions:
            self._full = True
        else:
            self._ended |= set(sessions)
        self._quiet_until = self._config.clock() + _RETRY

    async def refresh_quietly(self) -> None:
        """`refresh`, with XNAT's failure logged: the page waits for the next one."""
        try:
            await self.refresh()
        except XnatError as exc:
            log.warning("project %s: reading it for the status page: %s", self.project, exc)


def deferred_sessions(
    snapshot: ProjectSnapshot | None, processors: Sequence[Processor]
) -> set[str]:
    """Labels of the sessions with a task of ours NEED_TO_RUN: work the queue limits held back."""
    if snapshot is None:
        return set()
    ours = {p.proctype for p in processors}
    return {
        s.label
        for s in snapshot.sessions
        for a in s.assessors
        if a.proctype in ours and normalise_procstatus(a.procstatus) is ProcStatus.NEED_TO_RUN
    }


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _matrix(
    snapshot: ProjectSnapshot, processors: Sequence[Processor]
) -> dict[str, dict[str, int]]:
    ours = {p.proctype for p in processors}
    counts: dict[str, dict[str, int]] = {}
    for session in snapshot.sessions:
        for a in session.assessors:
            if a.proctype in ours:
                row = counts.setdefault(a.proctype, {})
                row[a.procstatus or "(none)"] = row.get(a.procstatus or "(none)", 0) + 1
    return counts
