"""
The service's notifications: a pass after each sweep that acted or failed, and the digest
every day at `notify.digest_at`.

XNAT or the cluster failing a sweep is told once it has lasted `notify.unreachable_after_minutes`
(the worker tries again every few seconds, so a restart of XNAT or of the login node passes
unsaid). The digest's day is claimed in each project's record in XNAT, so a restarted service,
or a second host, sends it once; a service started after the day's time sends the day's digest
at once if nobody has.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

import anyio

from aspider._exceptions import LeaseHeld, only_failure
from aspider.notify import (
    Notifier,
    ProjectFacts,
    RunFacts,
    notify_projects,
    send_digest,
    today,
)
from aspider.serve.schedule import next_full_sweep
from aspider.serve.worker import ProjectWorker
from aspider.settings import AspiderSettings
from pbs import PbsError
from xnat_client import XnatClient, XnatError

log = logging.getLogger("aspider.serve")


def facts_of(error: Exception | None) -> ProjectFacts:
    """How a sweep went, for its notifications."""
    if error is None:
        return ProjectFacts("swept")
    cause = only_failure(error, (XnatError, PbsError, LeaseHeld))
    if isinstance(cause, XnatError):
        return ProjectFacts("xnat", str(cause))
    if isinstance(cause, PbsError):
        return ProjectFacts("cluster", str(cause))
    return ProjectFacts("held")  # another sweep's lease, or a bug: nothing to say of XNAT


class ServiceAlerts:
    """The notifications of one service (see the module docstring)."""

    def __init__(self, settings: AspiderSettings, xnat: XnatClient) -> None:
        self.notifier = Notifier(settings)
        self._xnat = xnat
        self._patience = timedelta(minutes=settings.notify.unreachable_after_minutes)
        self._digest_at = settings.notify.digest_at
        self.workers: Mapping[str, ProjectWorker] = {}

    @classmethod
    def wanted(cls, settings: AspiderSettings, xnat: XnatClient) -> ServiceAlerts | None:
        """The service's notifications, or None when nothing is to be sent."""
        notify = settings.notify
        return cls(settings, xnat) if notify.enabled and notify.channels else None

    async def after_sweep(self, project: str, error: Exception | None) -> None:
        worker = self.workers[project]
        facts = RunFacts({project: facts_of(error)}, patience=self._patience)
        await notify_projects(self.notifier, self._xnat, facts, {project: worker.processors})

    async def digests(self, stopped: anyio.Event) -> None:
        """The day's digest at `notify.digest_at`, until `stopped`; today's at once if due."""
        if not self._digest_at:
            return
        while any(w.snapshot is None for w in self.workers.values()):  # the first sweeps first
            with anyio.move_on_after(1.0):
                await stopped.wait()
            if stopped.is_set():
                return
        now = _now()
        hour, minute = (int(part) for part in self._digest_at.split(":"))
        if (now.hour, now.minute) >= (hour, minute):
            await self.send_digest()
        while not stopped.is_set():
            now = _now()
            due = next_full_sweep(now, self._digest_at)
            wait = (due - now).total_seconds() if due is not None else float("inf")
            with anyio.move_on_after(wait):
                await stopped.wait()
            if not stopped.is_set():
                await self.send_digest()

    async def send_digest(self) -> None:
        processors = {p: w.processors for p, w in self.workers.items()}
        jobs = {p: w.observations for p, w in self.workers.items() if w.observations is not None}
        try:
            outcome = await send_digest(
                self.notifier, self._xnat, processors, slot=today(), observations=jobs
            )
        except Exception:  # the digest must never stop the service
            log.exception("digest")
            return
        for channel, projects in outcome.sent.items():
            log.info("digest of %s sent: %s", ", ".join(projects), channel)


def _now() -> datetime:
    return datetime.now().astimezone()
