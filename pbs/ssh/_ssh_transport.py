"""
SshTransport: one SSH connection to the login node, many channels over it.

Commands run through long-lived command runners (see `_runner`: the login shell starts once
per runner, not once per command), or on one exec channel each where a runner cannot start;
files move over one SFTP session, a window of requests at a time that no cancellation leaves
behind (see `_sftp_file`). A shared CapacityLimiter keeps the commands and the SFTP
session in flight below sshd's MaxSessions, and the runners, which hold a channel while idle,
number at most `max_channels - 1`. When the connection drops, the next call reconnects (with
backoff) and goes on; a call caught by the drop, or by the end of its runner, is repeated only
if it is idempotent. asyncssh's errors are translated here, once.
"""

from __future__ import annotations

import logging
import stat as stat_mode
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Self, TypeVar

import anyio
import asyncssh

from .._exceptions import (
    CommandFailed,
    ConnectionLost,
    FileMissing,
    FileOperationFailed,
)
from .._transport import CommandResult, FileStat, Lifecycle, PathLike
from ._connect import Connection, connect_with_backoff
from ._runner import ChannelGone, RunnerPool, remote_command
from ._settings import SshSettings
from ._sftp_file import SftpFile

log = logging.getLogger("pbs.ssh")

T = TypeVar("T")

_DROPS = (
    asyncssh.DisconnectError,
    asyncssh.ChannelOpenError,
    asyncssh.sftp.SFTPConnectionLost,
    ConnectionError,
    EOFError,
)


def _bytes(output: bytes | str | None) -> bytes:
    """A process's output: bytes, since commands run with encoding=None."""
    if output is None:
        return b""
    return output if isinstance(output, bytes) else output.encode()


def _sftp_error(exc: Exception, path: PathLike) -> FileOperationFailed:
    if isinstance(exc, asyncssh.SFTPNoSuchFile):
        return FileMissing("no such file or directory", path=str(path))
    reason = getattr(exc, "reason", "") or str(exc)
    return FileOperationFailed(reason, path=str(path))


class SshTransport:
    """Run commands and move files on a remote login node over one verified SSH connection."""

    def __init__(self, settings: SshSettings) -> None:
        self.settings = settings
        self.round_trips = 0
        self.reconnects = 0
        self._life = Lifecycle("SshTransport")
        self._limiter = anyio.CapacityLimiter(settings.max_channels)
        self._runners = RunnerPool(settings.max_channels - 1 if settings.command_runners else 0)
        self._lock = anyio.Lock()
        self._connection: Connection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._sftp_token: object | None = None
        self._ever_connected = False

    async def __aenter__(self) -> Self:
        self._life.opened()
        try:
            await self._ensure_connection()
        except BaseException:
            await self.aclose()
            raise
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
        with anyio.CancelScope(shield=True):
            await self._drop_connection()

    # -- connection management -------------------------------------------------------------

    async def _ensure_connection(self) -> Connection:
        async with self._lock:
            if self._connection is not None and not self._connection.is_closed():
                return self._connection
            # The login node went, the jump hosts may not have: go through them again.
            hops = await self._drop_connection(keep_hops=True)
            self._connection = await connect_with_backoff(self.settings, hops)
            if self._ever_connected:
                self.reconnects += 1
                log.info("reconnected to %s", self.settings.host)
            self._ever_connected = True
            return self._connection

    async def _drop_connection(
        self, *, keep_hops: bool = False
    ) -> list[asyncssh.SSHClientConnection]:
        """Close the connection; return its jump host connections if kept and still open."""
        self._runners.clear()
        if self._sftp is not None:
            self._sftp.exit()
            self._sftp = None
        if self._sftp_token is not None:
            self._limiter.release_on_behalf_of(self._sftp_token)
            self._sftp_token = None
        if self._connection is None:
            return []
        connection, self._connection = self._connection, None
        keep = keep_hops and connection.hops_alive()
        await connection.close(keep_hops=keep)
        return connection.hops if keep else []

    async def _ensure_sftp(self, connection: Connection) -> asyncssh.SFTPClient:
        async with self._lock:
            if self._sftp is not None and self._connection is connection:
                return self._sftp
            token = object()
            await self._limiter.acquire_on_behalf_of(token)
            try:
                self._sftp = await connection.conn.start_sftp_client()
            except BaseException:
                self._limiter.release_on_behalf_of(token)
                raise
            self._sftp_token = token
            return self._sftp

    async def _retrying(
        self, operation: Callable[[Connection], Awaitable[T]], *, idempotent: bool, what: str
    ) -> T:
        """Run operation on a live connection; after a drop, reconnect and maybe repeat it."""
        for attempt in (1, 2):
            connection = await self._ensure_connection()
            try:
                return await operation(connection)
            except _DROPS as exc:
                never_started = isinstance(exc, asyncssh.ChannelOpenError)
                if never_started and not connection.is_closed():
                    raise ConnectionLost(f"{what}: the server refused a channel: {exc}") from exc
                # A runner's channel may end alone (the runner was killed): keep the connection.
                runner_only = isinstance(exc, ChannelGone) and not connection.is_closed()
                if not runner_only:
                    connection.conn.close()
                lost = "its runner ended" if runner_only else "the connection dropped"
                if attempt == 2 or not (idempotent or never_started):
                    raise ConnectionLost(f"{what}: {lost}; outcome unknown ({exc})") from exc
                log.warning("%s: %s (%s); trying again", what, lost, exc)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- commands --------------------------------------------------------------------------

    async def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        check: bool = False,
        idempotent: bool = True,
    ) -> CommandResult:
        """Run argv on the login node (each word shell-quoted); see `Transport.run`."""
        self._life.check()
        command = remote_command(argv)
        log.debug("run %s", command)
        self.round_trips += 1

        async def execute(connection: Connection) -> tuple[int, bytes, bytes]:
            answer = await self._runners.run(connection, argv, stdin)
            if answer is not None:
                return answer
            done = await connection.conn.run(command, input=stdin, encoding=None, check=False)
            status = done.exit_status if done.exit_status is not None else -1
            return status, _bytes(done.stdout), _bytes(done.stderr)

        async with self._limiter:
            status, out, err = await self._retrying(execute, idempotent=idempotent, what=argv[0])
        result = CommandResult(
            argv=tuple(argv),
            exit_status=status,
            stdout=out.decode(errors="replace"),
            stderr=err.decode(errors="replace"),
        )
        if check and result.exit_status != 0:
            raise CommandFailed(argv, result.exit_status, result.stdout, result.stderr)
        return result

    # -- files -----------------------------------------------------------------------------

    async def _sftp_call(
        self,
        path: PathLike,
        action: Callable[[asyncssh.SFTPClient], Awaitable[T]],
        *,
        idempotent: bool = True,
    ) -> T:
        self._life.check()
        self.round_trips += 1

        async def operation(connection: Connection) -> T:
            sftp = await self._ensure_sftp(connection)
            return await action(sftp)

        try:
            return await self._retrying(operation, idempotent=idempotent, what=f"sftp {path}")
        except asyncssh.SFTPError as exc:
            raise _sftp_error(exc, path) from exc

    async def read_bytes(self, path: PathLike) -> bytes:
        async def action(sftp: asyncssh.SFTPClient) -> bytes:
            async with await SftpFile.open(sftp, str(path), "rb") as source:
                return await source.read_all()

        return await self._sftp_call(path, action)

    async def write_bytes(self, path: PathLike, data: bytes) -> None:
        async def action(sftp: asyncssh.SFTPClient) -> None:
            async with await SftpFile.open(sftp, str(path), "wb") as target:
                await target.write(data)

        await self._sftp_call(path, action)

    async def upload(self, path: PathLike, chunks: AsyncIterable[bytes]) -> None:
        async def action(sftp: asyncssh.SFTPClient) -> None:
            async with await SftpFile.open(sftp, str(path), "wb") as target:
                async for chunk in chunks:
                    await target.write(chunk)

        await self._sftp_call(path, action, idempotent=False)

    async def download(self, path: PathLike) -> AsyncIterator[bytes]:
        source = await self._sftp_call(path, lambda sftp: SftpFile.open(sftp, str(path), "rb"))
        try:
            while True:
                try:
                    blocks = await source.read_window()
                except _DROPS as exc:  # first: a lost SFTP session is an SFTPError too
                    raise ConnectionLost(f"download {path}: connection dropped") from exc
                except asyncssh.SFTPError as exc:
                    raise _sftp_error(exc, path) from exc
                if not blocks:
                    return
                for block in blocks:
                    yield block
        finally:
            try:
                await source.close()
            except (asyncssh.Error, *_DROPS):
                pass

    async def list_dir(self, path: PathLike) -> list[str]:
        async def action(sftp: asyncssh.SFTPClient) -> list[str]:
            names = await sftp.listdir(str(path))
            return sorted(str(n) for n in names if n not in (".", ".."))

        return await self._sftp_call(path, action)

    async def stat(self, path: PathLike) -> FileStat | None:
        async def action(sftp: asyncssh.SFTPClient) -> FileStat | None:
            try:
                attrs = await sftp.stat(str(path))
            except asyncssh.SFTPNoSuchFile:
                return None
            return FileStat(
                size=int(attrs.size or 0),
                mtime=float(attrs.mtime or 0),
                is_dir=stat_mode.S_ISDIR(attrs.permissions or 0),
            )

        return await self._sftp_call(path, action)

    async def make_dirs(self, path: PathLike) -> None:
        async def action(sftp: asyncssh.SFTPClient) -> None:
            await sftp.makedirs(str(path), exist_ok=True)

        await self._sftp_call(path, action)

    async def remove(self, path: PathLike) -> None:
        async def action(sftp: asyncssh.SFTPClient) -> None:
            try:
                attrs = await sftp.lstat(str(path))
            except asyncssh.SFTPNoSuchFile:
                return
            if stat_mode.S_ISDIR(attrs.permissions or 0):
                await sftp.rmtree(str(path))
            else:
                await sftp.remove(str(path))

        await self._sftp_call(path, action)

    async def rename(self, source: PathLike, target: PathLike) -> None:
        async def action(sftp: asyncssh.SFTPClient) -> None:
            await sftp.posix_rename(str(source), str(target))

        await self._sftp_call(source, action, idempotent=False)
