"""
A container image's SHA-256 for the provenance record, read once per image version.

An image is several GB; hashing it for every job would cost minutes of a login node's disk per
job. So its digest is kept beside the work root on the cluster (`.containers/`, one small JSON
file per image path) with the image's size and modification time: a job of an unchanged image
costs a `stat` and a small read, once per sweep; a replaced image (another size or mtime) is
hashed again, once (`sha256sum` on the cluster, where the image is). Within a sweep the tasks
of one image share one lookup. A digest that cannot be had (no such file, no `sha256sum`) is
recorded as missing with why; it never stops a job.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import anyio

from pbs import PbsError, Transport

log = logging.getLogger("aspider.run.tasks.containers")

CACHE_DIR = ".containers"
_HASH_TIMEOUT = 1800.0  # seconds: a 20 GB image on a slow shared disk


@dataclass
class ContainerDigests:
    """A sweep's container lookups: path -> what the provenance record says of it."""

    transport: Transport
    work_root: PurePosixPath
    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    locks: dict[str, anyio.Lock] = field(default_factory=dict)

    async def describe(self, path: str | None) -> dict[str, Any]:
        """The container's record: its path, size, mtime and SHA-256 where the cluster has it."""
        if not path:
            return {"path": None}
        lock = self.locks.setdefault(path, anyio.Lock())
        async with lock:
            if path not in self.found:
                self.found[path] = await self._look_up(path)
        return self.found[path]

    async def _look_up(self, path: str) -> dict[str, Any]:
        try:
            stat = await self.transport.stat(path)
        except (PbsError, OSError) as exc:
            return {"path": path, "sha256": None, "why": f"not readable: {exc}"}
        if stat is None or stat.is_dir:
            return {"path": path, "sha256": None, "why": "no such file on the cluster"}
        facts = {"path": path, "size": stat.size, "mtime": stat.mtime}
        cache = (
            self.work_root / CACHE_DIR / (hashlib.sha256(path.encode()).hexdigest()[:24] + ".json")
        )
        known = await self._cached(cache)
        if (
            known is not None
            and known.get("size") == stat.size
            and known.get("mtime") == stat.mtime
        ):
            return {**facts, "sha256": known.get("sha256")}
        digest, why = await self._hash(path)
        if digest is None:
            return {**facts, "sha256": None, "why": why}
        try:
            await self.transport.make_dirs(str(cache.parent))
            await self.transport.write_bytes(
                str(cache), json.dumps({**facts, "sha256": digest}).encode()
            )
        except (PbsError, OSError) as exc:  # hashed again next sweep; no harm otherwise
            log.warning("container digest of %s not kept: %s", path, exc)
        return {**facts, "sha256": digest}

    async def _cached(self, cache: PurePosixPath) -> dict[str, Any] | None:
        try:
            found = json.loads(await self.transport.read_bytes(str(cache)))
        except (PbsError, OSError, ValueError):
            return None
        return found if isinstance(found, dict) else None

    async def _hash(self, path: str) -> tuple[str | None, str]:
        """`sha256sum` of the image where it is; (None, why) when it cannot be had."""
        try:
            with anyio.fail_after(_HASH_TIMEOUT):
                result = await self.transport.run(["sha256sum", "--", path])
        except (PbsError, OSError, TimeoutError) as exc:
            return None, f"sha256sum failed: {exc}"
        words = result.stdout.split()
        if result.exit_status != 0 or not words or len(words[0]) != 64:
            return None, f"sha256sum failed: {result.stderr.strip()[:200]}"
        return words[0], ""
