"""
A pass of notifications over one project: the record read, what is seen now, what to say
said, and the record written, all while holding the project's lease.

The lease is the one every sweep takes (`aspider.run.project_lease`, kept in XNAT): two hosts
never interleave a read and a write of the record, and what a pass sees is read after the
lease is taken, so it is never older than what another host last wrote down. A pass that finds
the lease held leaves the project to the sweep that holds it (that sweep's own pass follows
it). A message goes out before the record says so: a crash in between says it once more,
never not at all.

`Notifier` is one per run or service: the channels (`routing`), the rate limit, and the
channels found broken, which are not tried again for a few minutes (a run over twenty projects
does not wait twenty times for a dead mail server).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime

import httpx

from aspider._exceptions import LeaseHeld
from aspider.notify import messages
from aspider.notify._exceptions import DeliveryFailed
from aspider.notify.ledger import Ledger
from aspider.notify.problems import Observation
from aspider.notify.rate import RateLimit
from aspider.notify.reconcile import Notice, reconcile, record
from aspider.notify.routing import Routes
from aspider.notify.stores import LocalLedgerStore, XnatLedgerStore
from aspider.run import XnatLeaseStore, project_lease
from aspider.settings import AspiderSettings
from xnat_client import Forbidden, XnatClient

log = logging.getLogger("aspider.notify")

BROKEN_FOR = 300.0  # seconds a channel that failed is left alone
LEASE_TTL = 120.0


def now() -> datetime:
    return datetime.now().astimezone()


class Notifier:
    """Notifications for a run or a service (see the module docstring)."""

    def __init__(
        self,
        settings: AspiderSettings,
        *,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        notify = settings.notify
        self.settings = settings
        self.routes = Routes(settings, webhook_transport)
        self.rate = RateLimit(notify.alerts_per_hour)
        self.local = LocalLedgerStore(notify.state_dir, settings.xnat.url)
        self.counts: Counter[str] = Counter()  # sent / held / failed, for the run's last line
        self.failures: dict[str, DeliveryFailed] = {}  # channel id -> its last failure
        self._broken: dict[str, float] = {}
        self._refused: set[str] = set()  # projects whose record XNAT will not let us write

    @property
    def status_url(self) -> str:
        return self.settings.notify.status_url

    async def project_pass(
        self, xnat: XnatClient, project: str, observe: Callable[[], Awaitable[Observation]]
    ) -> bool:
        """
        One pass over a project's record in XNAT; False when it was left (the lease is held).

        Raises:
            XnatError: XNAT failed reading or writing the record, or what `observe` reads.
        """
        if project in self._refused:
            await self.local_pass(await observe())
            return True
        try:
            async with project_lease(XnatLeaseStore(xnat, project), project, ttl=LEASE_TTL):
                store = XnatLedgerStore(xnat, project)
                ledger = await store.read()
                after = await self.say(ledger, await observe())
                if _changed(ledger, after):
                    await store.write(self._signed(after))
        except LeaseHeld as exc:
            log.info("notifications of %s left to the sweep that holds it: %s", project, exc)
            return False
        except Forbidden as exc:
            log.warning(
                "XNAT refuses this account the notification record of %s (%s); keeping it "
                "on this host instead (%s), which other hosts do not see",
                project,
                exc,
                self.local.where,
            )
            self._refused.add(project)
            await self.local_pass(await observe())
        return True

    async def local_pass(self, seen: Observation) -> None:
        """One pass over this host's record (what XNAT cannot keep)."""
        async with self.local.locked():
            ledger = await self.local.read()
            after = await self.say(ledger, seen)
            if _changed(ledger, after):
                await self.local.write(self._signed(after))

    async def say(self, ledger: Ledger, seen: Observation) -> Ledger:
        """What the observation calls for, said; the ledger after it."""
        after, notices = reconcile(ledger, seen, now(), self.routes.for_entry)
        for notice in notices:
            await self._tell(after, notice)
        return after

    async def _tell(self, ledger: Ledger, notice: Notice) -> None:
        if notice.kind == "opened" and notice.problem is not None:
            message = messages.alert(notice.problem, notice.entry, self.status_url)
        else:
            message = messages.resolved(notice.entry, self.status_url)
        took, held = [], []
        for channel_id in notice.destinations:
            if self._is_broken(channel_id):
                continue
            if not self.rate.admit(channel_id, time.monotonic()):
                held.append(channel_id)
                self.counts["held back"] += 1
                continue
            if await self.deliver(channel_id, message):
                took.append(channel_id)
            else:
                self.rate.undo(channel_id)
        record(ledger, notice, took, held)

    async def deliver(self, channel_id: str, message: messages.Message) -> bool:
        """Send one message on one channel; a failure is logged and remembered, not raised."""
        channel = self.routes.channel(channel_id)
        try:
            await channel.send(message)
        except DeliveryFailed as exc:
            self._broken[channel_id] = time.monotonic()
            self.failures[channel_id] = exc
            self.counts["failed"] += 1
            log.error("notification not sent: %s", exc)
            return False
        self.counts[message.kind] += 1
        fields = {"record": "notified", "kind": message.kind, "channel": channel.label}
        fields.update(project=message.project, problem=message.key)
        log.info("told %s: %s", channel.label, message.subject, extra={"fields": fields})
        return True

    def _is_broken(self, channel_id: str) -> bool:
        since = self._broken.get(channel_id)
        return since is not None and time.monotonic() - since < BROKEN_FOR

    async def flush(self) -> None:
        """The held-back notes due: one per channel that held alerts back, at most hourly."""
        for channel_id in self.rate.destinations_holding():
            count = self.rate.note_due(channel_id, time.monotonic())
            if not count or self._is_broken(channel_id):
                continue
            note = messages.held_back(count, self.rate.per_hour, self.status_url)
            if await self.deliver(channel_id, note):
                self.rate.noted(channel_id, count, time.monotonic())

    def _signed(self, ledger: Ledger) -> Ledger:
        ledger.written_at = now().isoformat(timespec="seconds")
        ledger.written_by = f"{socket.gethostname()}:{os.getpid()}"
        return ledger

    def summary(self) -> str:
        """What was said, in one line ("" when nothing was)."""
        said = [f"{self.counts[kind]} {words}" for kind, words in _SAID if self.counts[kind]]
        return ", ".join(said)


_SAID = (
    ("alert", "alert(s) sent"),
    ("resolved", "resolution(s) sent"),
    ("held back", "held back by notify.alerts_per_hour"),
    ("held_back", "held-back note(s) sent"),
    ("digest", "digest(s) sent"),
    ("failed", "not sent (the channel failed)"),
)


def _changed(before: Ledger, after: Ledger) -> bool:
    return (before.problems, before.digest) != (after.problems, after.digest)
