"""
Opening SSH connections: options from SshSettings and the ssh config, a chain of jump hosts
(each hop's host key verified against our known_hosts), backoff, and the translation of
asyncssh's connection errors into ours (this is the only module that sees them at connect
time).

asyncssh follows a config's ProxyJump by itself, but then opens the hops with the config's
options only (its known_hosts, not ours); so the hops are resolved here and opened one by one,
each tunnelled through the one before.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import asyncssh

from .._exceptions import ConnectFailed, HostKeyRejected, SshFileUnreadable
from ._settings import Endpoint, SshSettings, parse_hops, trust_instructions

log = logging.getLogger("pbs.ssh")

ConfigPaths = list[str] | None


@dataclass
class Connection:
    """A live connection to the login node, and the jump host connections it rides on."""

    conn: asyncssh.SSHClientConnection
    hops: list[asyncssh.SSHClientConnection] = field(default_factory=list)

    def is_closed(self) -> bool:
        return self.conn.is_closed()

    def hops_alive(self) -> bool:
        """Every jump host connection is still open (so a new target can reuse them)."""
        return all(not hop.is_closed() for hop in self.hops)

    async def close(self, *, keep_hops: bool = False) -> None:
        parts = [self.conn] if keep_hops else [self.conn, *reversed(self.hops)]
        for part in parts:
            part.close()
            with anyio.move_on_after(5, shield=True):
                await part.wait_closed()


@dataclass(frozen=True)
class Resolved:
    """What the ssh config says about a host alias (for hops and messages)."""

    host: str
    port: int
    user: str | None
    proxy_jump: str | None


def config_paths(settings: SshSettings) -> ConfigPaths:
    """The ssh config files to read: the configured one if it exists, else none."""
    path = settings.ssh_config
    return [str(path)] if path is not None and Path(path).is_file() else None


def resolve(alias: str, paths: ConfigPaths) -> Resolved:
    """HostName, Port, User and ProxyJump of an alias, as the ssh config gives them."""
    try:
        options = asyncssh.SSHClientConnectionOptions(
            config=paths, host=alias, known_hosts=None, client_keys=None, agent_path=None
        )
    except (asyncssh.ConfigParseError, OSError, ValueError) as exc:
        raise ConnectFailed(f"cannot read the ssh config {paths}: {exc}") from exc
    user = options.config.get("User")
    jump = options.config.get("ProxyJump")
    return Resolved(
        host=options.host,
        port=options.port,
        user=user if isinstance(user, str) else None,
        proxy_jump=jump if isinstance(jump, str) else None,
    )


def jump_hosts(settings: SshSettings, paths: ConfigPaths) -> list[Endpoint]:
    """The hops before the login node: `jump_host`, else the alias's ProxyJump."""
    if settings.jump_host is not None:
        return parse_hops(settings.jump_host)
    if paths is None:
        return []
    proxy_jump = resolve(settings.host, paths).proxy_jump
    return parse_hops(proxy_jump) if proxy_jump else []


def _options(settings: SshSettings) -> dict[str, object]:
    """What every hop shares: our known_hosts, our key, no agent forwarding, keepalives."""
    options: dict[str, object] = {
        "known_hosts": str(settings.known_hosts),
        "connect_timeout": settings.connect_timeout,
        "keepalive_interval": settings.keepalive_interval,
        "keepalive_count_max": settings.keepalive_count_max,
        "agent_forwarding": False,
    }
    if settings.key_path is not None:
        options["client_keys"] = [str(settings.key_path)]
        options["agent_path"] = None
        if settings.key_passphrase is not None:
            options["passphrase"] = settings.key_passphrase.get_secret_value()
    return options


async def _connect_one(
    settings: SshSettings,
    hop: Endpoint,
    paths: ConfigPaths,
    tunnel: asyncssh.SSHClientConnection | None,
) -> asyncssh.SSHClientConnection:
    """One hop, through tunnel; the config fills what the hop does not say."""
    resolved = resolve(hop.host, paths)
    port = hop.port or resolved.port
    user = hop.user or resolved.user or settings.user
    try:
        return await asyncssh.connect(
            hop.host,
            port=port,
            username=user if user is not None else (),
            tunnel=tunnel,
            config=paths,
            **_options(settings),
        )
    except asyncssh.HostKeyNotVerifiable as exc:
        name = f"{hop.host} ({resolved.host}:{port})" if hop.host != resolved.host else hop.host
        raise HostKeyRejected(
            f"host key of {name} is not trusted by {settings.known_hosts} (unknown or changed): "
            f"{trust_instructions(resolved.host, port, settings.known_hosts)}"
        ) from exc
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
        raise SshFileUnreadable(
            f"key_path {settings.key_path} cannot be used as a private key: {exc}",
            path=str(settings.key_path),
        ) from exc
    except asyncssh.PermissionDenied as exc:
        raise ConnectFailed(f"{user or ''}@{hop.host}:{port} refused the login: {exc}") from exc
    except (OSError, TimeoutError, asyncssh.Error) as exc:
        raise ConnectFailed(f"cannot connect to {hop.host}:{port}: {exc}") from exc


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
        raise SshFileUnreadable(
            f"{setting} {path} {problem}; {_file_fix(setting, path, settings)}", path=str(path)
        )


def _file_fix(setting: str, path: Path, settings: SshSettings) -> str:
    """The command that makes the missing file, to paste from the error line."""
    port = settings.port or 22
    if setting == "known_hosts":
        return trust_instructions(settings.host, port, path)
    login = f"{settings.user}@{settings.host}" if settings.user else settings.host
    return (
        f"make a key with `ssh-keygen -t ed25519 -f {path}` and install it with "
        f"`ssh-copy-id -i {path}.pub -p {port} {login}`, or set cluster.key_path to a key you have"
    )


async def connect_once(
    settings: SshSettings, hops: list[asyncssh.SSHClientConnection] | None = None
) -> Connection:
    """
    One attempt: every jump host in turn (each tunnelled through the one before), then the
    login node. Open `hops` from an earlier connection are reused instead.
    """
    check_files(settings)
    paths = config_paths(settings)
    opened = list(hops or [])
    try:
        if not opened:
            for hop in jump_hosts(settings, paths):
                opened.append(
                    await _connect_one(settings, hop, paths, opened[-1] if opened else None)
                )
        target = Endpoint(host=settings.host, port=settings.port, user=settings.user)
        conn = await _connect_one(settings, target, paths, opened[-1] if opened else None)
    except BaseException:
        if not hops:
            for hop_conn in reversed(opened):
                hop_conn.close()
        raise
    return Connection(conn=conn, hops=opened)


async def connect_with_backoff(
    settings: SshSettings, hops: list[asyncssh.SSHClientConnection] | None = None
) -> Connection:
    """
    Connect, retrying transient failures with doubling delays.

    A rejected host key or login is not transient: it is raised at once. Reused hops are
    dropped after the first failure, in case they are what failed.
    """
    delay = settings.reconnect_backoff
    for attempt in range(1, settings.reconnect_attempts + 1):
        try:
            return await connect_once(settings, hops)
        except (HostKeyRejected, SshFileUnreadable):
            raise
        except ConnectFailed as exc:
            if isinstance(exc.__cause__, asyncssh.PermissionDenied):
                raise
            if hops:
                for hop in reversed(hops):
                    hop.close()
                hops = None
            if attempt == settings.reconnect_attempts:
                raise
            log.warning("connect attempt %d failed (%s); retrying in %.1fs", attempt, exc, delay)
            await anyio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover
