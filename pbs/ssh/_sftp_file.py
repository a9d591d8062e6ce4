"""
One remote file, read or written in order over SFTP, a window of concurrent requests at a time.

asyncssh's own `SFTPClientFile.read()` and `write()` split a call into requests run on bare
asyncio tasks. Cancel the caller while they are out and asyncssh leaves them behind: aiohttp
cancels the task that streams an upload's body when XNAT answers 5xx before it is all sent,
and that task is often reading a job's output. asyncssh routinely reads past the end of a
file (on OpenSSH, whose largest read is 255 KiB, a 256 KiB chunk is two requests), so a task
left behind meets `SFTPEOFError`, and asyncio logs "Task exception was never retrieved".

Here asyncssh makes one request per call (the file is opened with `block_size=0`), and the
concurrency is ours: the requests of a window run in one task group, which a cancellation
cancels and waits for, and whose first error is raised as itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from functools import partial
from types import TracebackType
from typing import Literal, Self, TypeVar

import anyio
import asyncssh

from .._transport import CHUNK_SIZE

T = TypeVar("T")

_WINDOW_BYTES = 4 * 1024 * 1024  # in flight at once, as much as asyncssh's own reader keeps
_MAX_REQUESTS = 128


def _as_bytes(data: bytes | str) -> bytes:
    """Data read from a file opened in binary mode (asyncssh types it `AnyStr`)."""
    return data if isinstance(data, bytes) else data.encode()


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_error(first) if isinstance(first, BaseExceptionGroup) else first


async def _all_at_once(calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """
    Every call's result, in order, the calls run concurrently in one task group.

    The first failure is raised as itself (callers translate asyncssh's errors), once the other
    calls are cancelled and done: no request outlives the call, whatever happens to it.
    """
    if len(calls) == 1:
        return [await calls[0]()]
    results: dict[int, T] = {}

    async def one(index: int) -> None:
        results[index] = await calls[index]()

    try:
        async with anyio.create_task_group() as tg:
            for index in range(len(calls)):
                tg.start_soon(one, index)
    except BaseExceptionGroup as group:
        raise _first_error(group) from group
    return [results[index] for index in range(len(calls))]


class SftpFile:
    """
    A remote file open for reading or for writing, from its start, in order.

    A read ends at an empty block, or at a short one once the size the file had when opened is
    reached: a file that grows is read on to its end, and one cut short yields its start, never
    a gap. Blocks after a short one in the same window are dropped, so the bytes read are always
    the file's own bytes, in order.
    """

    def __init__(self, file: asyncssh.SFTPClientFile, limits: asyncssh.SFTPLimits, size: int):
        self._file = file
        # One request: what the server answers in one go (255 KiB on OpenSSH), a chunk at most.
        self._read_len = min(limits.max_read_len, CHUNK_SIZE) or CHUNK_SIZE
        self._write_len = min(limits.max_write_len, CHUNK_SIZE) or CHUNK_SIZE
        self._size = size
        self._offset = 0
        self._ended = False

    @classmethod
    async def open(
        cls, sftp: asyncssh.SFTPClient, path: str, mode: Literal["rb", "wb"]
    ) -> SftpFile:
        """Open path to read or to write; a file opened to be read is sized (fstat) too."""
        file = await sftp.open(path, mode, block_size=0)  # one request per call: see above
        try:
            size = int((await file.stat()).size or 0) if mode == "rb" else 0
        except BaseException:
            with anyio.CancelScope(shield=True), suppress(asyncssh.Error, OSError):
                await file.close()  # the failure to report is the one above
            raise
        return cls(file, sftp.limits, size)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the handle, even when the caller is being cancelled."""
        with anyio.CancelScope(shield=True):
            await self._file.close()

    # -- reading ---------------------------------------------------------------------------

    async def read_all(self) -> bytes:
        """The rest of the file."""
        data = bytearray()
        while blocks := await self.read_window():
            for block in blocks:
                data += block
        return bytes(data)

    async def read_window(self) -> list[bytes]:
        """The next blocks of the file, in order; an empty list at its end."""
        if self._ended:
            return []
        size = self._read_len
        offsets = [self._offset + i * size for i in range(self._blocks_to_ask())]
        blocks = await _all_at_once([partial(self._read_block, at, size) for at in offsets])
        taken: list[bytes] = []
        for block in blocks:
            if block:
                taken.append(block)
            self._offset += len(block)
            if len(block) < size:
                self._ended = not block or self._offset >= self._size
                break
        return taken

    def _blocks_to_ask(self) -> int:
        """Enough blocks for the rest of the file as sized, one at least, a window at most."""
        left = -(-(self._size - self._offset) // self._read_len)
        return max(1, min(left, self._window_requests(self._read_len)))

    async def _read_block(self, offset: int, size: int) -> bytes:
        return _as_bytes(await self._file.read(size, offset))  # b"" at the end of the file

    # -- writing ---------------------------------------------------------------------------

    async def write(self, data: bytes) -> None:
        """Write data where the last write ended."""
        size = self._write_len
        starts = range(0, len(data), size)
        per_window = self._window_requests(size)
        for first in range(0, len(starts), per_window):
            window = starts[first : first + per_window]
            await _all_at_once(
                [
                    partial(self._write_piece, self._offset + at, data[at : at + size])
                    for at in window
                ]
            )
        self._offset += len(data)

    async def _write_piece(self, offset: int, piece: bytes) -> None:
        await self._file.write(piece, offset)

    @staticmethod
    def _window_requests(request_size: int) -> int:
        return max(1, min(_WINDOW_BYTES // request_size, _MAX_REQUESTS))
