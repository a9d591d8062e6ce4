"""
One sweep at a time per project, even from two hosts with different work roots.

The nightly container and a lab member's workstation may both sweep the same project; two sweeps
would race to create and submit the same tasks. Before a sweep touches a project it takes a
lease: a record (owner, token, expiry) that only one sweep can create. Where it is kept is a
`LeaseStore`: in XNAT itself (`lease_xnat`, the default: every engine that can sweep the project
sees it, whatever its work root or cluster), or in the work root (`lease_files`: only engines
sharing that work root see it; the fallback when XNAT will not let this account write it).

A lease whose expiry has passed is stale (its owner died) and is taken over. The owner renews
the expiry (heartbeat) well before it passes and stops the sweep if it finds its lease gone. A
lease whose owner is a dead process on this same host is stale at once, as is one this very
process left behind (a sweep that could not release it).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import anyio

from aspider._exceptions import LeaseHeld, LeaseLost, first_error
from pbs import PbsError
from xnat_client import XnatError

log = logging.getLogger("aspider.run.lease.holder")


@dataclass(frozen=True)
class LeaseRecord:
    owner: str
    token: str
    expires: float

    def to_bytes(self) -> bytes:
        return json.dumps(self.__dict__).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> LeaseRecord:
        data = json.loads(raw)
        return cls(
            owner=str(data["owner"]), token=str(data["token"]), expires=float(data["expires"])
        )


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# Tokens of the leases this process holds right now. A lease that names this process as its
# owner but whose token is not here was left behind by one of its own sweeps that could not
# release it (the cluster went away at the end): it is stale, not another sweep's.
_HELD_HERE: set[str] = set()


def owner_is_dead(owner: str) -> bool:
    """
    The owner is a process of this very host that no longer exists.

    A crashed sweep's lease is then stale at once, rather than after its expiry: rerunning
    after a crash (or a SIGKILL) on the same machine needs no wait. Owners on other hosts can
    only be judged by their expiry.
    """
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class LeaseStore(Protocol):
    """Where a project's lease record lives; `create` is the one step only one sweep can win."""

    where: str  # for messages: where the lease is kept

    async def create(self, record: LeaseRecord) -> bool:
        """Make `record` the lease if there is none; False when one exists."""
        ...

    async def read(self) -> LeaseRecord | None:
        """The lease as it stands; None when there is none."""
        ...

    async def take_over(self, stale: LeaseRecord, record: LeaseRecord) -> bool:
        """Replace the stale lease with `record`; False when another contender got there first."""
        ...

    async def write(self, record: LeaseRecord) -> None:
        """Replace the lease this sweep holds with `record` (its new expiry)."""
        ...

    async def remove(self, record: LeaseRecord) -> None:
        """Give up the lease `record` holds."""
        ...


class ProjectLease:
    """A held lease; `renew()` pushes its expiry forward and raises LeaseLost if it is gone."""

    def __init__(
        self,
        store: LeaseStore,
        project: str,
        *,
        ttl: float = 300.0,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._project = project
        self._ttl = ttl
        self._clock = clock
        self.record = LeaseRecord(owner or default_owner(), uuid.uuid4().hex, 0.0)

    def _fresh(self) -> LeaseRecord:
        return LeaseRecord(self.record.owner, self.record.token, self._clock() + self._ttl)

    async def acquire(self) -> None:
        for _ in range(5):
            self.record = self._fresh()
            if await self.store.create(self.record):
                _HELD_HERE.add(self.record.token)
                return
            current = await self.store.read()
            if current is None:
                continue  # vanished between our attempts: try again
            if current.expires > self._clock() and not self._is_stale(current):
                raise LeaseHeld(self._project, current.owner, current.expires)
            if await self.store.take_over(current, self.record):
                _HELD_HERE.add(self.record.token)
                return
        raise LeaseHeld(self._project, "another sweep (contended)", self._clock() + self._ttl)

    async def renew(self) -> None:
        current = await self.store.read()
        if current is None or current.token != self.record.token:
            raise LeaseLost(f"lease on project {self._project!r} was lost")
        self.record = self._fresh()
        await self.store.write(self.record)

    def _is_stale(self, current: LeaseRecord) -> bool:
        left_by_us = current.owner == self.record.owner and current.token not in _HELD_HERE
        return left_by_us or owner_is_dead(current.owner)

    async def release(self) -> None:
        _HELD_HERE.discard(self.record.token)  # released, or left behind: not held any more
        await self.store.remove(self.record)


@asynccontextmanager
async def project_lease(
    store: LeaseStore, project: str, *, ttl: float = 300.0
) -> AsyncIterator[ProjectLease]:
    """Hold the project's lease for the body, renewing it every ttl/3 in the background."""
    lease = ProjectLease(store, project, ttl=ttl)
    await lease.acquire()
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_heartbeat, lease, ttl / 3)
            try:
                yield lease
            finally:
                group.cancel_scope.cancel()
    except BaseExceptionGroup as errors:
        # The body's own error (or LeaseLost from the heartbeat), not a group around it.
        raise first_error(errors) from None
    finally:
        with anyio.move_on_after(10, shield=True):
            try:
                await lease.release()
            except (PbsError, XnatError) as exc:  # unreachable: the lease expires on its own
                log.warning(
                    "cannot release the lease on %s (%s); it expires in %gs", project, exc, ttl
                )


async def _heartbeat(lease: ProjectLease, every: float) -> None:
    while True:
        await anyio.sleep(every)
        await lease.renew()
