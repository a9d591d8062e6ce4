"""
Opening SSH connections: options from SshSettings, an optional jump host, backoff, and the
translation of asyncssh's connection errors into ours (this is the only module that sees them
at connect time).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import anyio
import asyncssh

from ._exceptions import ConnectFailed, HostKeyRejected, SshFileUnreadable
from ._ssh_settings import SshSettings, parse_endpoint, trust_instructions

log = logging.getLogger("pbs.ssh")


@dataclass
class Connection:
    """A live connection to the login node, and the jump host connection it rides on."""

    conn: Any  # asyncssh.SSHClientConnection (asyncssh ships no type information)
    jump: Any | None

    def is_closed(self) -> bool:
        return bool(self.conn.is_closed())

    async def close(self) -> None:
        for part in (self.conn, self.jump):
            if part is not None:
                part.close()
                with anyio.move_on_after(5, shield=True):
                    await part.wait_closed()


def _options(settings: SshSettings, user: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {
        "known_hosts": str(settings.known_hosts),
        "connect_timeout": settings.connect_timeout,
        "keepalive_interval": settings.keepalive_interval,
        "keepalive_count_max": settings.keepalive_count_max,
    }
    if user is not None:
        options["username"] = user
    if settings.key_path is not None:
        options["client_keys"] = [str(settings.key_path)]
        options["agent_path"] = None
        if settings.key_passphrase is not None:
            options["passphrase"] = settings.key_passphrase.get_secret_value()
    return options


async def _connect_one(
    settings: SshSettings, host: str, port: int, user: str | None, tunnel: Any = None
) -> Any:
    options = _options(settings, user)
    if tunnel is not None:
        options["tunnel"] = tunnel
    try:
        return await asyncssh.connect(host, port=port, **options)
    except asyncssh.HostKeyNotVerifiable as exc:
        raise HostKeyRejected(
            f"host key of {host}:{port} is not trusted by {settings.known_hosts} "
            f"(unknown or changed): {trust_instructions(host, port, settings.known_hosts)}"
        ) from exc
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
        raise SshFileUnreadable(
            f"key_path {settings.key_path} cannot be used as a private key: {exc}",
            path=str(settings.key_path),
        ) from exc
    except asyncssh.PermissionDenied as exc:
        raise ConnectFailed(f"{user or ''}@{host}:{port} refused the login: {exc}") from exc
    except (OSError, TimeoutError, asyncssh.Error) as exc:
        raise ConnectFailed(f"cannot connect to {host}:{port}: {exc}") from exc


def check_files(settings: SshSettings) -> None:
    """
    The key and known_hosts files the settings name can be read, before any connection.

    asyncssh would report a missing file as an OSError, which reads like a network failure and
    would be retried; no retry can make a file appear.

    Raises:
        SshFileUnreadable: naming the setting and the file.
    """
    named = {"known_hosts": settings.known_hosts, "key_path": settings.key_path}
    for setting, path in named.items():
        if path is None:
            continue
        if not path.is_file():
            problem = "does not exist" if not path.exists() else "is not a file"
        elif not os.access(path, os.R_OK):
            problem = f"is not readable by uid {os.getuid()}"
        else:
            continue
        raise SshFileUnreadable(f"{setting} {path} {problem}", path=str(path))


async def connect_once(settings: SshSettings) -> Connection:
    """One attempt: the jump host first (same key and known_hosts), then the login node."""
    check_files(settings)
    jump = None
    if settings.jump_host is not None:
        user, host, port = parse_endpoint(settings.jump_host, default_port=22)
        jump = await _connect_one(settings, host, port, user or settings.user)
    try:
        conn = await _connect_one(settings, settings.host, settings.port, settings.user, jump)
    except BaseException:
        if jump is not None:
            jump.close()
        raise
    return Connection(conn=conn, jump=jump)


async def connect_with_backoff(settings: SshSettings) -> Connection:
    """
    Connect, retrying transient failures with doubling delays.

    A rejected host key or login is not transient: it is raised at once.
    """
    delay = settings.reconnect_backoff
    for attempt in range(1, settings.reconnect_attempts + 1):
        try:
            return await connect_once(settings)
        except (HostKeyRejected, SshFileUnreadable):
            raise
        except ConnectFailed as exc:
            if isinstance(exc.__cause__, asyncssh.PermissionDenied):
                raise
            if attempt == settings.reconnect_attempts:
                raise
            log.warning("connect attempt %d failed (%s); retrying in %.1fs", attempt, exc, delay)
            await anyio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover
