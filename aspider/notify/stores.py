"""
Where the record of problems (`ledger.Ledger`) is kept.

- `XnatLedgerStore`: the file `problems.json` of the project resource `aspider_notify`, beside
  the lease's `aspider_lease`: every host that sweeps the project reads and writes the same
  record. It is read and written under the project's lease (`passes`), the lock every sweep
  already takes, so two hosts never interleave a read and a write of it.
- `LocalLedgerStore`: a file on this host (`notify.state_dir`), under an exclusive `flock`,
  for what XNAT cannot keep: that XNAT itself does not serve a project. Hosts that do not
  share the directory each say it once.

A record that cannot be read is started afresh, with a warning: its problems are then told
again once (better than never).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread

from aspider.notify.ledger import Ledger
from xnat_client import NotFound, ResourceRef, XnatClient

log = logging.getLogger("aspider.notify")

RESOURCE = "aspider_notify"
FILE = "problems.json"


def _parsed(raw: bytes, where: str) -> Ledger:
    try:
        return Ledger.from_bytes(raw)
    except (ValueError, TypeError, KeyError) as exc:
        log.warning("%s: unreadable (%s); starting a new record of problems", where, exc)
        return Ledger()


class XnatLedgerStore:
    """The record in XNAT (read and written under the project's lease)."""

    def __init__(self, xnat: XnatClient, project: str) -> None:
        self._xnat = xnat
        self._ref = ResourceRef.project(project, RESOURCE)
        self.where = f"XNAT ({self._ref.file(FILE)})"

    async def read(self) -> Ledger:
        chunks: list[bytes] = []

        async def sink(chunk: bytes) -> None:
            chunks.append(chunk)

        try:
            await self._xnat.download_file(self._ref, FILE, sink)
        except NotFound:
            return Ledger()
        return _parsed(b"".join(chunks), self.where)

    async def write(self, ledger: Ledger) -> None:
        await self._xnat.upload_file(
            self._ref, FILE, ledger.to_bytes(), overwrite=True, verify=False
        )


class LocalLedgerStore:
    """The record in a file of this host, for one XNAT (by its URL)."""

    def __init__(self, directory: Path, xnat_url: str) -> None:
        name = hashlib.sha256(xnat_url.encode()).hexdigest()[:16]
        self.path = directory.expanduser() / f"xnat-{name}.json"
        self.where = str(self.path)

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        """This host's processes one at a time between a read and a write."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            await anyio.to_thread.run_sync(fcntl.flock, fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    async def read(self) -> Ledger:
        try:
            raw = await anyio.Path(self.path).read_bytes()
        except FileNotFoundError:
            return Ledger()
        return _parsed(raw, self.where)

    async def write(self, ledger: Ledger) -> None:
        partial = self.path.with_suffix(f".{os.getpid()}.tmp")
        await anyio.Path(partial).write_bytes(ledger.to_bytes())
        os.chmod(partial, 0o600)
        os.replace(partial, self.path)
