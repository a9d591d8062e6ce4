"""
The lease kept in the work root: `<workroot>/.aspider/leases/<project>/lease.json`.

Seen only by engines that share the work root (the same cluster and the same `work_root`); the
fallback store when XNAT will not let the account write the lease there (`lease_xnat`).

Why directories: renaming a directory onto an existing one fails both on POSIX and over SFTP, so
"rename my prepared directory into place" is an atomic create that exactly one contender wins. A
stale lease is taken over by renaming it to a tombstone, which again exactly one contender wins;
the winner checks the tombstone holds the stale token it saw, and if it moved a fresh lease
instead (it raced a faster contender), it puts it back.
"""

from __future__ import annotations

import uuid

from aspider.run.lease.holder import LeaseRecord
from pbs import FileOperationFailed, Transport


class FileLeaseStore:
    """The lease as a directory of the work root, over the cluster's transport."""

    def __init__(self, files: Transport, root: str, project: str) -> None:
        if not project or "/" in project or project in {".", ".."}:
            raise ValueError(f"project id {project!r} cannot name a lease directory")
        self._files = files
        self._dir = f"{root.rstrip('/')}/.aspider/leases/{project}"
        self.where = self._dir

    @property
    def path(self) -> str:
        return self._dir

    async def create(self, record: LeaseRecord) -> bool:
        parent = self._dir.rsplit("/", 1)[0]
        await self._files.make_dirs(parent)
        staging = f"{self._dir}.new-{uuid.uuid4().hex}"
        await self._files.make_dirs(staging)
        await self._files.write_bytes(f"{staging}/lease.json", record.to_bytes())
        try:
            await self._files.rename(staging, self._dir)
        except FileOperationFailed:
            await self._files.remove(staging)
            return False
        return True

    async def read(self) -> LeaseRecord | None:
        return await self._read(self._dir)

    async def take_over(self, stale: LeaseRecord, record: LeaseRecord) -> bool:
        tomb = f"{self._dir}.stale-{uuid.uuid4().hex}"
        try:
            await self._files.rename(self._dir, tomb)
        except FileOperationFailed:
            return False  # somebody else moved it first
        moved = await self._read(tomb)
        if moved is not None and moved.token != stale.token:
            # We raced a contender who had already replaced the stale lease: give it back.
            try:
                await self._files.rename(tomb, self._dir)
            except FileOperationFailed:
                pass
            else:
                return False
        await self._files.remove(tomb)
        return await self.create(record)

    async def write(self, record: LeaseRecord) -> None:
        tmp = f"{self._dir}/lease.json.{uuid.uuid4().hex}"
        await self._files.write_bytes(tmp, record.to_bytes())
        await self._files.rename(tmp, f"{self._dir}/lease.json")

    async def remove(self, record: LeaseRecord) -> None:
        current = await self._read(self._dir)
        if current is not None and current.token == record.token:
            tomb = f"{self._dir}.released-{uuid.uuid4().hex}"
            try:
                await self._files.rename(self._dir, tomb)
            except FileOperationFailed:
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
