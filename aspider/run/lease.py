"""
One sweep at a time per project, even from two hosts.

The nightly container and a lab member's workstation may both sweep the same project; two sweeps
would race to create and submit the same tasks. Before a sweep touches a project it takes a lease:
a directory `<workroot>/.aspider/leases/<project>/` holding `lease.json` (owner, token, expiry),
in the same work root the jobs use, so every host that can submit can see it.

Why directories: renaming a directory onto an existing one fails both on POSIX and over SFTP, so
"rename my prepared directory into place" is an atomic create that exactly one contender wins.
A lease whose expiry has passed is stale (its owner died); it is taken over by renaming it to a
tombstone, which again exactly one contender wins. The winner checks the tombstone holds the stale
token it saw; if it moved a fresh lease instead (it raced a faster contender), it puts it back.
The owner renews the expiry (heartbeat) well before it passes and stops the sweep if it finds
its lease gone. A lease whose owner is a dead process on this same host is stale at once.
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

import anyio

from aspider._exceptions import LeaseHeld, LeaseLost, first_error
from pbs import FileOperationFailed, PbsError, Transport

log = logging.getLogger("aspider.run.lease")


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


class ProjectLease:
    """A held lease; `renew()` pushes its expiry forward and raises LeaseLost if it is gone."""

    def __init__(
        self,
        files: Transport,
        root: str,
        project: str,
        *,
        ttl: float = 300.0,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not project or "/" in project or project in {".", ".."}:
            raise ValueError(f"project id {project!r} cannot name a lease directory")
        self._files = files
        self._dir = f"{root.rstrip('/')}/.aspider/leases/{project}"
        self._project = project
        self._ttl = ttl
        self._clock = clock
        self.record = LeaseRecord(owner or default_owner(), uuid.uuid4().hex, 0.0)

    @property
    def path(self) -> str:
        return self._dir

    async def acquire(self) -> None:
        for _ in range(5):
            if await self._try_create():
                _HELD_HERE.add(self.record.token)
                return
            current = await self._read(self._dir)
            if current is None:
                continue  # vanished between our attempts: try again
            if current.expires > self._clock() and not self._is_stale(current):
                raise LeaseHeld(self._project, current.owner, current.expires)
            await self._take_over(current)
        raise LeaseHeld(self._project, "another sweep (contended)", self._clock() + self._ttl)

    async def renew(self) -> None:
        current = await self._read(self._dir)
        if current is None or current.token != self.record.token:
            raise LeaseLost(f"lease on project {self._project!r} was lost")
        self.record = LeaseRecord(self.record.owner, self.record.token, self._clock() + self._ttl)
        tmp = f"{self._dir}/lease.json.{uuid.uuid4().hex}"
        await self._files.write_bytes(tmp, self.record.to_bytes())
        await self._files.rename(tmp, f"{self._dir}/lease.json")

    def _is_stale(self, current: LeaseRecord) -> bool:
        left_by_us = current.owner == self.record.owner and current.token not in _HELD_HERE
        return left_by_us or owner_is_dead(current.owner)

    async def release(self) -> None:
        _HELD_HERE.discard(self.record.token)  # released, or left behind: not held any more
        current = await self._read(self._dir)
        if current is not None and current.token == self.record.token:
            tomb = f"{self._dir}.released-{uuid.uuid4().hex}"
            try:
                await self._files.rename(self._dir, tomb)
            except FileOperationFailed:
                return
            await self._files.remove(tomb)

    async def _try_create(self) -> bool:
        parent = self._dir.rsplit("/", 1)[0]
        await self._files.make_dirs(parent)
        staging = f"{self._dir}.new-{uuid.uuid4().hex}"
        await self._files.make_dirs(staging)
        self.record = LeaseRecord(self.record.owner, self.record.token, self._clock() + self._ttl)
        await self._files.write_bytes(f"{staging}/lease.json", self.record.to_bytes())
        try:
            await self._files.rename(staging, self._dir)
        except FileOperationFailed:
            await self._files.remove(staging)
            return False
        return True

    async def _take_over(self, stale: LeaseRecord) -> None:
        tomb = f"{self._dir}.stale-{uuid.uuid4().hex}"
        try:
            await self._files.rename(self._dir, tomb)
        except FileOperationFailed:
            return  # somebody else moved it first
        moved = await self._read(tomb)
        if moved is not None and moved.token != stale.token:
            # We raced a contender who had already replaced the stale lease: give it back.
            try:
                await self._files.rename(tomb, self._dir)
            except FileOperationFailed:
                pass
            else:
                return
        await self._files.remove(tomb)

    async def _read(self, directory: str) -> LeaseRecord | None:
        try:
            raw = await self._files.read_bytes(f"{directory}/lease.json")
        except FileOperationFailed:
            return None
        try:
            return LeaseRecord.from_bytes(raw)
        except (ValueError, KeyError):
            return LeaseRecord(owner="unreadable lease", token="", expires=0.0)


@asynccontextmanager
async def project_lease(
    files: Transport, root: str, project: str, *, ttl: float = 300.0
) -> AsyncIterator[ProjectLease]:
    """Hold the project's lease for the body, renewing it every ttl/3 in the background."""
    lease = ProjectLease(files, root, project, ttl=ttl)
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
            except PbsError as exc:  # the cluster is gone: the lease expires on its own
                log.warning(
                    "cannot release the lease on %s (%s); it expires in %gs", project, exc, ttl
                )


async def _heartbeat(lease: ProjectLease, every: float) -> None:
    while True:
        await anyio.sleep(every)
        await lease.renew()
