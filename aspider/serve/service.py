"""
The service's engine room: one worker per project, the job poll, and the nightly full sweep.

    POST ──> worker.hint ─┐
    poll of last_modified ├─> ProjectWorker (one per project) ──> sweep_project (lease held)
    job poll ─> ended ────┤
    nightly ─> full ──────┘

The job poll is one batched `observe` for every followed job of every project (a fixed number
of round trips to the cluster whatever the number of jobs); a session whose job ended is swept
at once (no settling: the job's end is the event). The idle service sends one listing per
project per `poll_interval` and nothing else to XNAT, and nothing to the cluster while no job is
followed.

Stopping (SIGTERM): no new step starts; a sweep in flight finishes (within `stop_grace`, after
which it is cancelled where it stands, which the engine resumes from on the next start); the
lease is released by the sweep itself on the way out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime

import anyio

from aspider.plan import IN_QUEUE, JobObservation, find_stale, processors_usage
from aspider.processors import Processor
from aspider.run import JobBackend, RunQueue, for_project, jobs_to_observe, sweep_options
from aspider.serve.alerts import ServiceAlerts
from aspider.serve.history import QueueSample
from aspider.serve.metrics import ServiceMetrics
from aspider.serve.page import PageInfo
from aspider.serve.schedule import next_full_sweep
from aspider.serve.service_log import room_reason
from aspider.serve.status import ProjectStatus, project_status
from aspider.serve.worker import ProjectWorker, WorkerConfig
from aspider.settings import AspiderSettings
from pbs import PbsError
from xnat_client import XnatClient

log = logging.getLogger("aspider.serve")


class Service:
    """Workers and loops over one XNAT client and one job backend."""

    def __init__(
        self,
        settings: AspiderSettings,
        processors: Sequence[Processor],
        projects: Sequence[str],
        xnat: XnatClient,
        backend: JobBackend,
    ) -> None:
        self.settings = settings
        self.serve = settings.serve
        self.metrics = ServiceMetrics(lambda: xnat.requests_sent)
        self._backend = backend
        # One queue budget for every project the service sweeps (limits.max_queued is one promise).
        self.options = replace(sweep_options(settings), queue=RunQueue())
        self.alerts = ServiceAlerts.wanted(settings, xnat)
        after = self.alerts.after_sweep if self.alerts is not None else None
        config = WorkerConfig(
            self.serve.poll_interval, self.serve.settle, self.options, after_sweep=after
        )
        self.workers: dict[str, ProjectWorker] = {
            p: ProjectWorker(
                p, for_project(settings, p, processors), xnat, backend, config, self.metrics
            )
            for p in projects
        }
        if self.alerts is not None:
            self.alerts.workers = self.workers
        self.started = datetime.now().astimezone()
        self.next_full: datetime | None = None
        self.stopping = False
        self._stopped = anyio.Event()
        self._finished = anyio.Event()

    async def run(self) -> None:
        """Until `stop()`: the workers, the job poll and the schedule."""
        try:
            async with anyio.create_task_group() as tg:
                for worker in self.workers.values():
                    if self.serve.sweep_on_start:
                        worker.request_full()
                    else:
                        tg.start_soon(worker.refresh_quietly)
                    tg.start_soon(worker.run)
                tg.start_soon(self._follow_jobs)
                tg.start_soon(self._schedule)
                if self.alerts is not None:
                    tg.start_soon(self.alerts.digests, self._stopped)
        finally:
            self._finished.set()

    async def stop(self, grace: float) -> None:
        """Take no new work; wait up to `grace` seconds for sweeps in flight, then return."""
        self.stopping = True
        self._stopped.set()
        for worker in self.workers.values():
            worker.stop()
        with anyio.move_on_after(grace):
            await self._finished.wait()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def worker(self, project: str) -> ProjectWorker | None:
        return self.workers.get(project)

    # the job poll

    async def _follow_jobs(self) -> None:
        while not self.stopping:
            with anyio.move_on_after(self.serve.follow_interval):
                await self._stopped.wait()
            if self.stopping:
                return
            try:
                await self.poll_jobs()
            except (PbsError, OSError) as exc:
                log.warning("job poll: %s", exc)

    async def poll_jobs(self) -> None:
        """One batched observation of every followed job; sessions whose job ended are swept."""
        owners: dict[str, tuple[ProjectWorker, str]] = {}
        jobs: dict[str, str] = {}
        for w in self.workers.values():
            if w.snapshot is None:
                continue
            followed = jobs_to_observe(w.snapshot, w.processors)
            jobs.update(followed)
            by_label = {a.label: s.label for s in w.snapshot.sessions for a in s.assessors}
            owners.update((label, (w, by_label[label])) for label in followed)
        seen = await self._backend.observe(jobs) if jobs else {}
        now = datetime.now().timestamp()
        for w in self.workers.values():
            mine = {label: o for label, o in seen.items() if owners[label][0] is w}
            w.observations = mine
            ended = {owners[label][1] for label, o in mine.items() if o.end_cause is not None}
            if ended:
                self.metrics.events.labels("job").inc(len(ended))
                w.jobs_ended(ended)
            queued = sum(1 for o in mine.values() if o.scheduler_state == "queued")
            running = sum(
                1 for o in mine.values() if o.scheduler_state == "running" and o.end_cause is None
            )
            w.history.queue.append(QueueSample(now, queued, running))
            self.metrics.set_jobs(w.project, queued, running)
        self._resume_deferred(seen)

    def _resume_deferred(self, seen: Mapping[str, JobObservation]) -> None:
        """
        With room in the queue, the sessions holding work a limit deferred are swept now, not
        at night: their NEED_TO_RUN tasks, as the last snapshot shows them (after a restart
        too, with no full sweep). The planner grants them by priority, then oldest session.
        """
        in_queue = sum(
            1 for o in seen.values() if o.end_cause is None and o.scheduler_state in IN_QUEUE
        )
        limit = self.options.limits.max_queued
        if limit is not None and in_queue >= limit:
            return
        reason = room_reason(in_queue, limit)
        for w in self.workers.values():
            w.resume_deferred(reason)

    # the schedule

    async def _schedule(self) -> None:
        while not self.stopping:
            now = datetime.now().astimezone()
            self.next_full = next_full_sweep(now, self.serve.full_sweep_at)
            wait = (self.next_full - now).total_seconds() if self.next_full else float("inf")
            with anyio.move_on_after(wait):
                await self._stopped.wait()
            if self.stopping:
                return
            log.info("nightly full sweep of %d project(s)", len(self.workers))
            for worker in self.workers.values():
                worker.request_full()

    # what the page and the API show

    def statuses(self, only: str | None = None) -> list[ProjectStatus]:
        link = self.serve.xnat_link or self.settings.xnat.url
        today = date.today()
        found = []
        for name, w in self.workers.items():
            if only is not None and name != only:
                continue
            if w.snapshot is None:
                continue
            status = project_status(
                w.snapshot,
                [p.proctype for p in w.processors],
                link_base=link,
                today=today,
                taken_at=w.read_at,
                observations=w.observations,
                history=w.history,
                usage=processors_usage(
                    [w.snapshot], w.processors, self.settings.retry, self.settings.tune
                ),
                staleness=find_stale([w.snapshot], w.processors),
            )
            status.pending = len(w.watch.pending) + len(w.watch.hints)
            status.last_sweep = _last_sweep(w)
            found.append(status)
        return found

    def page_info(self) -> PageInfo:
        facts: list[tuple[str, str]] = [("up since", self.started.isoformat(timespec="seconds"))]
        if self.next_full is not None:
            facts.append(("next full sweep", self.next_full.isoformat(timespec="minutes")))
        waiting = [p for p, w in self.workers.items() if w.snapshot is None]
        if waiting:
            facts.append(("not read yet", ", ".join(waiting)))
        now = datetime.now().astimezone().isoformat(timespec="seconds")
        return PageInfo("aspider serve", now, tuple(facts))

    def summary(self) -> Mapping[str, object]:
        return {
            "up_since": self.started.isoformat(timespec="seconds"),
            "next_full_sweep": self.next_full.isoformat() if self.next_full else None,
            "projects": sorted(self.workers),
            "stopping": self.stopping,
        }


def _last_sweep(worker: ProjectWorker) -> str:
    if not worker.sweeps:
        return ""
    last = worker.sweeps[-1]
    what = f"{last.actions} action(s)" + (", with failures" if last.failed else "")
    return f"{last.kind} sweep at {last.at}, {last.seconds:.1f} s, {what}"
