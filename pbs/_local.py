"""
LocalTransport: the scheduler's commands and files on this machine (the cluster's login node).

Subprocesses through anyio, files through anyio.Path; blocking tree removal runs in a worker
thread. It honours the same contract as `SshTransport`, so one test suite covers both.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import Self

import anyio

from ._exceptions import CommandFailed, FileMissing, FileOperationFailed
from ._transport import (
    CHUNK_SIZE,
    CommandResult,
    FileStat,
    Lifecycle,
    PathLike,
    scrubbed_argv,
)

log = logging.getLogger("pbs.transport")


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
        max_processes: how many commands may run at once.
    """

    def __init__(self, *, env: Mapping[str, str] | None = None, max_processes: int = 8) -> None:
        self._env = {**os.environ, **(env or {})}
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
            done = await anyio.run_process(full, input=stdin, check=False, env=self._env)
        result = CommandResult(
            argv=tuple(argv),
            exit_status=done.returncode,
            stdout=done.stdout.decode(errors="replace"),
            stderr=done.stderr.decode(errors="replace"),
        )
        if check and result.exit_status != 0:
            raise CommandFailed(argv, result.exit_status, result.stdout, result.stderr)
        return result

    def _enter(self, path: PathLike) -> anyio.Path:
        self._life.check()
        self.round_trips += 1
        return anyio.Path(str(path))

    async def read_bytes(self, path: PathLike) -> bytes:
        target = self._enter(path)
        try:
            return await target.read_bytes()
        except OSError as exc:
            raise _file_error(exc, path) from exc

    async def write_bytes(self, path: PathLike, data: bytes) -> None:
        target = self._enter(path)
        try:
            await target.write_bytes(data)
        except OSError as exc:
            raise _file_error(exc, path) from exc

    async def upload(self, path: PathLike, chunks: AsyncIterable[bytes]) -> None:
        target = self._enter(path)
        try:
            async with await anyio.open_file(target, "wb") as out:
                async for chunk in chunks:
                    await out.write(chunk)
        except OSError as exc:
            raise _file_error(exc, path) from exc

    async def download(self, path: PathLike) -> AsyncIterator[bytes]:
        target = self._enter(path)
        try:
            async with await anyio.open_file(target, "rb") as source:
                while chunk := await source.read(CHUNK_SIZE):
                    yield chunk
        except OSError as exc:
            raise _file_error(exc, path) from exc

    async def list_dir(self, path: PathLike) -> list[str]:
        target = self._enter(path)
        try:
            return sorted([entry.name async for entry in target.iterdir()])
        except OSError as exc:
            raise _file_error(exc, path) from exc

    async def stat(self, path: PathLike) -> FileStat | None:
        target = self._enter(path)
        try:
            found = await target.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _file_error(exc, path) from exc
        return FileStat(size=found.st_size, mtime=found.st_mtime, is_dir=await target.is_dir())

    async def make_dirs(self, path: PathLike) -> None:
        target = self._enter(path)
        try:
            await target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _file_error(exc, path) from exc

    async def remove(self, path: PathLike) -> None:
        target = self._enter(path)
        try:
            if await target.is_dir() and not await target.is_symlink():
                await anyio.to_thread.run_sync(shutil.rmtree, str(target))
            else:
                await target.unlink(missing_ok=True)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise _file_error(exc, path) from exc

    async def rename(self, source: PathLike, target: PathLike) -> None:
        origin = self._enter(source)
        try:
            await origin.replace(str(target))
        except OSError as exc:
            raise _file_error(exc, source) from exc
