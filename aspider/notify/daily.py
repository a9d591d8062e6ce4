"""
The daily digest, once a day across every host: each project's part is claimed in its record
(`digest.slot`, the day) under the project's lease before anything is sent, so a second host,
or a restarted service, finds the day taken and sends nothing. Then one message per channel,
holding the parts of the projects that channel hears about. A channel that fails gives its
projects' claims back, so the next try (the service's, or `aspider notify digest` again) sends
them.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import anyio

from aspider._exceptions import LeaseHeld
from aspider.notify.digest import FIRST_SPAN, ProjectDigest, digest_message, project_digest
from aspider.notify.ledger import DigestRecord, Ledger
from aspider.notify.passes import LEASE_TTL, Notifier, now
from aspider.notify.problems import moment
from aspider.notify.stores import XnatLedgerStore
from aspider.plan import JobObservation, find_stale
from aspider.processors import Processor
from aspider.run import XnatLeaseStore, project_lease
from xnat_client import XnatClient, XnatError

log = logging.getLogger("aspider.notify")

LEASE_TRIES = 60  # the project's lease, tried this often, LEASE_WAIT seconds apart
LEASE_WAIT = 5.0


@dataclass
class DigestOutcome:
    sent: dict[str, list[str]] = field(default_factory=dict)  # channel label -> projects
    failed: dict[str, str] = field(default_factory=dict)  # channel label -> why
    taken: list[str] = field(default_factory=list)  # projects whose day's digest went already
    unread: dict[str, str] = field(default_factory=dict)  # project -> why it was left out


async def send_digest(
    notifier: Notifier,
    xnat: XnatClient,
    processors: Mapping[str, Sequence[Processor]],
    *,
    slot: str,
    force: bool = False,
    observations: Mapping[str, Mapping[str, JobObservation]] | None = None,
) -> DigestOutcome:
    """The digest of these projects for day `slot` (YYYY-MM-DD); `force`: even if sent."""
    outcome = DigestOutcome()
    parts: dict[str, tuple[ProjectDigest, DigestRecord]] = {}
    for project, procs in processors.items():
        if notifier.routes.muted(project) or not notifier.routes.project(project):
            continue
        jobs = (observations or {}).get(project)
        try:
            claimed = await _claim(notifier, xnat, project, procs, slot, force, jobs)
        except (XnatError, LeaseHeld) as exc:
            outcome.unread[project] = str(exc)
            log.warning("digest: project %s left out: %s", project, exc)
            continue
        if claimed is None:
            outcome.taken.append(project)
        else:
            parts[project] = claimed
    await _send(notifier, xnat, parts, outcome)
    return outcome


async def _claim(
    notifier: Notifier,
    xnat: XnatClient,
    project: str,
    procs: Sequence[Processor],
    slot: str,
    force: bool,
    jobs: Mapping[str, JobObservation] | None,
) -> tuple[ProjectDigest, DigestRecord] | None:
    """The project's part, its day claimed in its record; None when the day was taken."""
    for _ in range(LEASE_TRIES - 1):  # a sweep holds the lease: the digest waits its turn
        try:
            return await _claim_held(notifier, xnat, project, procs, slot, force, jobs)
        except LeaseHeld:
            await anyio.sleep(LEASE_WAIT)
    return await _claim_held(notifier, xnat, project, procs, slot, force, jobs)


async def _claim_held(
    notifier: Notifier,
    xnat: XnatClient,
    project: str,
    procs: Sequence[Processor],
    slot: str,
    force: bool,
    jobs: Mapping[str, JobObservation] | None,
) -> tuple[ProjectDigest, DigestRecord] | None:
    async with project_lease(XnatLeaseStore(xnat, project), project, ttl=LEASE_TTL):
        store = XnatLedgerStore(xnat, project)
        ledger = await store.read()
        if ledger.digest.slot == slot and not force:
            return None
        started = now()
        since = moment(ledger.digest.at) or started - FIRST_SPAN
        needs_subjects = any(p.level == "subject" for p in procs)
        snapshot = await xnat.project_snapshot(project, subject_assessors=needs_subjects)
        settings = notifier.settings
        part = project_digest(
            snapshot,
            [p.proctype for p in procs],
            since=since,
            link_base=settings.serve.xnat_link or settings.xnat.url,
            observations=jobs,
            staleness=find_stale([snapshot], procs),
        )
        before = ledger.digest
        ledger.digest = DigestRecord(slot, started.isoformat(timespec="seconds"), _me())
        await store.write(ledger)
        return part, before


async def _send(
    notifier: Notifier,
    xnat: XnatClient,
    parts: Mapping[str, tuple[ProjectDigest, DigestRecord]],
    outcome: DigestOutcome,
) -> None:
    by_channel: dict[str, list[str]] = {}
    for project in parts:
        for channel in notifier.routes.project(project):
            by_channel.setdefault(channel.id, []).append(project)
    unheard = set(parts)
    for channel_id, projects in by_channel.items():
        label = notifier.routes.channel(channel_id).label
        message = digest_message(
            [parts[p][0] for p in projects], now=now(), status_url=notifier.status_url
        )
        if await notifier.deliver(channel_id, message):
            outcome.sent[label] = projects
            unheard -= set(projects)
        else:
            outcome.failed[label] = str(notifier.failures[channel_id].reason)
    for project in sorted(unheard):  # no channel took it: the next try sends it
        await _give_back(xnat, project, parts[project][1])


async def _give_back(xnat: XnatClient, project: str, before: DigestRecord) -> None:
    try:
        async with project_lease(XnatLeaseStore(xnat, project), project, ttl=LEASE_TTL):
            store = XnatLedgerStore(xnat, project)
            ledger: Ledger = await store.read()
            ledger.digest = before
            await store.write(ledger)
    except (XnatError, LeaseHeld) as exc:
        log.warning("digest of %s not sent, and its day stays taken: %s", project, exc)


def today(at: datetime | None = None) -> str:
    """The digest's day (local time)."""
    return (at or now()).date().isoformat()


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"
