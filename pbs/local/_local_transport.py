"""
LocalTransport: the scheduler's commands and files on this machine (the cluster's login node).

Subprocesses through anyio; each file operation runs whole in one worker-thread hop, because
the work root may sit on a network file system that stalls, and a hop per step (open, each
write, close) cost the event loop more than the step itself. It honours the same contract as
`SshTransport`, so one test suite covers both.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import subprocess
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from functools import partial
from types import TracebackType
from typing import BinaryIO, Self, TypeVar

import anyio
from anyio.abc import ByteReceiveStream

from .._exceptions import CommandFailed, FileMissing, FileOperationFailed
from .._transport import (
    CHUNK_SIZE,
    CommandResult,
    FileStat,
    Lifecycle,
    PathLike,
    scrubbed_argv,
)

log = logging.getLogger("pbs.transport")
T = TypeVar("T")
_FLUSH_BYTES = 4 * CHUNK_SIZE


def _file_error(exc: OSError, path: PathLike) -> FileOperationFailed:
    if isinstance(exc, FileNotFoundError):
        return FileMissing("no such file or directory", path=str(path))
    return FileOperationFailed(exc.strerror or str(exc), path=str(path))


class LocalTransport:
    """
    Run commands and move files locally.

    Args:
        env: extra environment variables for every command (e.g. `SLURM_CONF`); the process's
            own environment is inherited.
        withhold: prefixes of the process's variables that commands do not get: a scheduler
            may hand the submitter's environment to the job (Slurm does), and a job must not
            see the caller's secrets.
        max_processes: how many commands may run at once.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        withhold: Sequence[str] = (),
        max_processes: int = 8,
    ) -> None:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(tuple(withhold))}
        self._env = {**inherited, **(env or {})}
        self._limiter = anyio.CapacityLimiter(max_processes)
        self._life = Lifecycle("LocalTransport")
        self.round_trips = 0

    async def __aenter__(self) -> Self:
        self._life.opened()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._life.closed()

    async def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        check: bool = False,
        idempotent: bool = True,
    ) -> CommandResult:
        """Run argv as a subprocess (no shell); see `Transport.run`."""
        self._life.check()
        full = scrubbed_argv(argv)
        log.debug("run %s", full)
        self.round_trips += 1
        async with self._limiter:
            status, out, err = await _run_process(full, stdin, self._env)
        result = CommandResult(
            argv=tuple(argv),
            exit_status=status,
            stdout=out.decode(errors="replace"),
            stderr=err.decode(errors="replace"),
        )
        if check and result.exit_status != 0:
            raise CommandFailed(argv, result.exit_status, result.stdout, result.stderr)
        return result

    def _enter(self, path: PathLike) -> str:
        self._life.check()
        self.round_trips += 1
        return str(path)

    async def _in_thread(self, path: PathLike, work: Callable[..., T], *args: object) -> T:
        """One file operation, whole, in one worker-thread hop (each hop costs the loop ~0.1 ms)."""
        try:
            return await anyio.to_thread.run_sync(work, *args)
        except OSError as exc:
            raise _file_error(exc, path) from exc

    async def read_bytes(self, path: PathLike) -> bytes:
        return await self._in_thread(path, _read_bytes, self._enter(path))

    async def write_bytes(self, path: PathLike, data: bytes) -> None:
        await self._in_thread(path, _write_bytes, self._enter(path), data)

    async def upload(self, path: PathLike, chunks: AsyncIterable[bytes]) -> None:
        """Chunks are gathered up to `_FLUSH_BYTES` per write, so a small file is one hop."""
        target = self._enter(path)
        sink = _Sink(target)
        try:
            pending: list[bytes] = []
            size = 0
            async for chunk in chunks:
                pending.append(chunk)
                size += len(chunk)
                if size >= _FLUSH_BYTES:
                    await self._in_thread(path, sink.write, pending, False)
                    pending, size = [], 0
            await self._in_thread(path, sink.write, pending, True)
        finally:
            sink.close()

    async def download(self, path: PathLike) -> AsyncIterator[bytes]:
        target = self._enter(path)
        source = _Source(target)
        try:
            chunk = await self._in_thread(path, source.read)
            while chunk:
                yield chunk
                chunk = await self._in_thread(path, source.read) if not source.ended else b""
        finally:
            source.close()

    async def list_dir(self, path: PathLike) -> list[str]:
        return sorted(await self._in_thread(path, os.listdir, self._enter(path)))

    async def stat(self, path: PathLike) -> FileStat | None:
        return await self._in_thread(path, _stat, self._enter(path))

    async def make_dirs(self, path: PathLike) -> None:
        await self._in_thread(path, partial(os.makedirs, exist_ok=True), self._enter(path))

    async def remove(self, path: PathLike) -> None:
        await self._in_thread(path, _remove, self._enter(path))

    async def rename(self, source: PathLike, target: PathLike) -> None:
        await self._in_thread(source, os.replace, self._enter(source), str(target))


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as source:
        return source.read()


def _write_bytes(path: str, data: bytes) -> None:
    with open(path, "wb") as out:
        out.write(data)


def _stat(path: str) -> FileStat | None:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return FileStat(size=found.st_size, mtime=found.st_mtime, is_dir=stat.S_ISDIR(found.st_mode))


def _remove(path: str) -> None:
    """A directory tree, a file or a symlink (never what it points to); gone already is fine."""
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        return


class _Sink:
    """A file written in batches from a worker thread; opened by the first batch."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._file: BinaryIO | None = None

    def write(self, parts: list[bytes], last: bool) -> None:
        if self._file is None:
            self._file = open(self._path, "wb")  # noqa: SIM115 - closed by the last batch
        self._file.writelines(parts)
        if last:
            self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class _Source:
    """A file read a chunk per worker-thread hop; a short read is the end of the file."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._file: BinaryIO | None = None
        self.ended = False

    def read(self) -> bytes:
        if self._file is None:
            self._file = open(self._path, "rb")  # noqa: SIM115 - closed at the end
        chunk = self._file.read(CHUNK_SIZE)  # buffered: short only at the end of the file
        if len(chunk) < CHUNK_SIZE:
            self.ended = True
            self.close()
        return chunk

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


async def _run_process(
    argv: Sequence[str], stdin: bytes | None, env: Mapping[str, str] | None
) -> tuple[int, bytes, bytes]:
    """
    Run argv to its end: (exit status, stdout, stderr).

    A command that exits without reading all its input (a script that fails before it gets
    to the data) is a command that ran: its exit status is the answer, not a broken pipe.
    """
    feed = subprocess.PIPE if stdin is not None else subprocess.DEVNULL
    async with await anyio.open_process(list(argv), stdin=feed, env=env) as process:
        chunks: dict[str, list[bytes]] = {"out": [], "err": []}

        async def drain(stream: ByteReceiveStream | None, into: list[bytes]) -> None:
            if stream is not None:
                into.extend([chunk async for chunk in stream])

        async with anyio.create_task_group() as group:
            group.start_soon(drain, process.stdout, chunks["out"])
            group.start_soon(drain, process.stderr, chunks["err"])
            if process.stdin is not None:
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await process.stdin.send(stdin or b"")
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await process.stdin.aclose()
        status = await process.wait()
    return status, b"".join(chunks["out"]), b"".join(chunks["err"])
