"""
The lease kept in XNAT: the file `lease.json` of the project's resource `aspider_lease`.

Every engine that can sweep a project can reach the project in XNAT, whatever its work root or
cluster, so a lease there keeps two engines configured differently from sweeping one project at
once (a lease in one work root is invisible to an engine with another).

The step only one sweep can win is XNAT's refusal to replace a file uploaded without
`overwrite`: the upload creates the lease, or XNAT answers that the file exists and keeps it
(`xnat_client.Conflict`). A stale lease is taken over by overwriting it and reading it back: of
two contenders overwriting at once, the later write wins and the earlier one sees another token
(it backs off); the heartbeat's read before every renewal catches the rare pair that both read
their own token, within a third of the lease's life. A sweep costs two requests here (create and
remove); a long one adds a read and a write every third of the lease's life.
"""

from __future__ import annotations

import logging

from aspider.run.lease.holder import LeaseRecord, LeaseStore
from xnat_client import Conflict, Forbidden, NotFound, ResourceRef, XnatClient

log = logging.getLogger("aspider.run.lease.holder")

RESOURCE = "aspider_lease"
FILE = "lease.json"


class XnatLeaseStore:
    """The lease as a project resource file in XNAT."""

    def __init__(self, xnat: XnatClient, project: str) -> None:
        self._xnat = xnat
        self._ref = ResourceRef.project(project, RESOURCE)
        self.where = f"XNAT ({self._ref.file(FILE)})"

    async def create(self, record: LeaseRecord) -> bool:
        try:
            await self._xnat.upload_file(self._ref, FILE, record.to_bytes(), verify=False)
        except Conflict:
            return False
        return True

    async def read(self) -> LeaseRecord | None:
        chunks: list[bytes] = []

        async def sink(chunk: bytes) -> None:
            chunks.append(chunk)

        try:
            await self._xnat.download_file(self._ref, FILE, sink)
        except NotFound:
            return None
        try:
            return LeaseRecord.from_bytes(b"".join(chunks))
        except (ValueError, KeyError):
            return LeaseRecord(owner="unreadable lease", token="", expires=0.0)

    async def take_over(self, stale: LeaseRecord, record: LeaseRecord) -> bool:
        await self.write(record)
        now = await self.read()
        return now is not None and now.token == record.token

    async def write(self, record: LeaseRecord) -> None:
        await self._xnat.upload_file(
            self._ref, FILE, record.to_bytes(), overwrite=True, verify=False
        )

    async def remove(self, record: LeaseRecord) -> None:
        # Not read first: the heartbeat has checked the token within a third of the lease's
        # life, so the lease is still this sweep's; a request saved on every sweep.
        await self._xnat.delete_resource(self._ref)


class XnatOrFilesLeaseStore:
    """
    The lease in XNAT; in the work root instead, with one warning, if XNAT refuses this account
    the write (403): sweeps are then kept apart only among engines that share the work root.
    """

    def __init__(self, xnat_store: XnatLeaseStore, files_store: LeaseStore) -> None:
        self._store: LeaseStore = xnat_store
        self._fallback = files_store
        self.where = xnat_store.where

    async def create(self, record: LeaseRecord) -> bool:
        try:
            return await self._store.create(record)
        except Forbidden as exc:
            if self._store is self._fallback:
                raise
            log.warning(
                "XNAT refuses this account the project lease (%s); keeping it in the work root "
                "instead (%s), which only engines sharing that work root see",
                exc,
                self._fallback.where,
            )
            self._store, self.where = self._fallback, self._fallback.where
            return await self._store.create(record)

    async def read(self) -> LeaseRecord | None:
        return await self._store.read()

    async def take_over(self, stale: LeaseRecord, record: LeaseRecord) -> bool:
        return await self._store.take_over(stale, record)

    async def write(self, record: LeaseRecord) -> None:
        await self._store.write(record)

    async def remove(self, record: LeaseRecord) -> None:
        await self._store.remove(record)
