"""
The limit on files moving at once, applied to large files only.

Why only large ones: the limit exists to keep a handful of multi-GB images from splitting the
network and the disks many ways, and it was first applied to a task's whole staging or upload
(listings and checks included), so a project of small files moved four at a time through a
client that allows sixteen requests in flight (docs/benchmarks.md, "Sweep"). A file below
`SMALL_FILE` bytes is bounded by the HTTP limit alone; a larger one, or one of unknown size,
waits for one of the slots, and holds it only while its bytes move.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

SMALL_FILE = 1 << 20


class TransferLimit:
    """At most `slots` files of `small` bytes or more move at once."""

    def __init__(self, slots: int, small: int = SMALL_FILE) -> None:
        self._slots = anyio.CapacityLimiter(slots)
        self.small = small

    @asynccontextmanager
    async def moving_file(self, size: int | None) -> AsyncIterator[None]:
        if size is not None and size < self.small:
            yield
            return
        async with self._slots:
            yield
