"""
SshSettings: everything needed to reach a cluster's login node, resolved once and frozen.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

# sshd refuses the 11th session of one connection by default (MaxSessions 10); stay below it
# with room for the SFTP session and a spare.
_MAX_SESSIONS_DEFAULT = 10


class SshSettings(BaseModel):
    """
    How to reach the login node over SSH.

    The host key is always verified against `known_hosts` (default `~/.ssh/known_hosts`);
    nothing is trusted on first use. Without `key_path`, the SSH agent and the default keys in
    `~/.ssh` are used.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(default=22, ge=1, le=65535)
    user: str | None = None
    key_path: Path | None = None
    key_passphrase: SecretStr | None = None
    known_hosts: Path = Field(default_factory=lambda: Path.home() / ".ssh" / "known_hosts")
    jump_host: str | None = Field(
        default=None, description="[user@]host[:port] of a bastion to tunnel through"
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
            parse_endpoint(value, default_port=22)
        return value


def parse_endpoint(text: str, *, default_port: int) -> tuple[str | None, str, int]:
    """Split `[user@]host[:port]` into its parts."""
    user, _, hostport = text.rpartition("@")
    host, sep, port = hostport.partition(":")
    if not host or (sep and not port.isdigit()):
        raise ValueError(f"expected [user@]host[:port], got {text!r}")
    return (user or None), host, (int(port) if sep else default_port)


def trust_instructions(host: str, port: int, known_hosts: Path) -> str:
    """What to run to trust a server's key, to paste into an error message."""
    entry = host if port == 22 else f"[{host}]:{port}"
    return (
        f"verify the server's fingerprint with its administrator, then run "
        f"`ssh-keyscan -p {port} {host} >> {known_hosts}`; if the key changed legitimately, "
        f"first remove the old entry with `ssh-keygen -R '{entry}' -f {known_hosts}`"
    )
