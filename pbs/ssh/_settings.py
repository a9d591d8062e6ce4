"""
SshSettings: everything needed to reach a cluster's login node, resolved once and frozen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

# sshd refuses the 11th session of one connection by default (MaxSessions 10); stay below it
# with room for the SFTP session and a spare.
_MAX_SESSIONS_DEFAULT = 10


class SshSettings(BaseModel):
    """
    How to reach the login node over SSH.

    `host` may be a host alias of the ssh config (`~/.ssh/config` by default): its HostName,
    Port, User, IdentityFile and ProxyJump apply, as with OpenSSH, unless a setting here says
    otherwise. `jump_host` lists the bastions to go through (`[user@]host[:port]`, comma
    separated, first hop first, each also possibly an alias); without it, the alias's ProxyJump
    is used.

    Every hop's host key is verified against `known_hosts` (default `~/.ssh/known_hosts`;
    the config's UserKnownHostsFile is not consulted, so no config can turn checking off);
    nothing is trusted on first use. Without `key_path`, the SSH agent, the config's
    IdentityFile and the default keys in `~/.ssh` are used. The agent is never forwarded.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1, description="host name, address or ssh config alias")
    port: int | None = Field(default=None, ge=1, le=65535, description="None: config, else 22")
    user: str | None = None
    key_path: Path | None = None
    key_passphrase: SecretStr | None = None
    known_hosts: Path = Field(default_factory=lambda: Path.home() / ".ssh" / "known_hosts")
    ssh_config: Path | None = Field(
        default_factory=lambda: Path.home() / ".ssh" / "config",
        description="OpenSSH client config read for host aliases (ignored if absent); None: none",
    )
    jump_host: str | None = Field(
        default=None,
        description="[user@]host[:port] of the bastion(s) to tunnel through, comma separated",
    )
    connect_timeout: float = Field(default=15.0, gt=0)
    keepalive_interval: float = Field(default=15.0, gt=0)
    keepalive_count_max: int = Field(default=3, ge=1)
    max_channels: int = Field(default=8, ge=1, lt=_MAX_SESSIONS_DEFAULT)
    command_runners: bool = Field(
        default=True,
        description="run commands through long-lived runners, so the login shell and its rc "
        "files start once per runner; False: one exec channel (one login shell) per command",
    )
    reconnect_attempts: int = Field(default=5, ge=1)
    reconnect_backoff: float = Field(default=0.5, gt=0, description="first delay, doubled")

    @field_validator("jump_host")
    @classmethod
    def _jump_host_form(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hops(value)
        return value


@dataclass(frozen=True)
class Endpoint:
    """One hop as written: a host (or alias), and a port and user when given."""

    host: str
    port: int | None = None
    user: str | None = None


def parse_endpoint(text: str) -> Endpoint:
    """Split `[user@]host[:port]` into its parts."""
    user, _, hostport = text.strip().rpartition("@")
    host, sep, port = hostport.partition(":")
    if not host or (sep and not port.isdigit()):
        raise ValueError(f"expected [user@]host[:port], got {text!r}")
    return Endpoint(host=host, port=int(port) if sep else None, user=user or None)


def parse_hops(text: str) -> list[Endpoint]:
    """`bastion1,alice@bastion2:2222` -> its hops, first first; `none` -> no hop."""
    if text.strip().lower() == "none":
        return []
    return [parse_endpoint(part) for part in text.split(",")]


def trust_instructions(host: str, port: int, known_hosts: Path) -> str:
    """What to run to trust a server's key, to paste into an error message."""
    entry = host if port == 22 else f"[{host}]:{port}"
    return (
        f"verify the server's fingerprint with its administrator, then run "
        f"`ssh-keyscan -p {port} {host} >> {known_hosts}`; if the key changed legitimately, "
        f"first remove the old entry with `ssh-keygen -R '{entry}' -f {known_hosts}`"
    )
