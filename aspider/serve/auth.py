"""
Who may post events: the bearer token, and where the service may listen.

The token is read once from a secret file (`serve.token_file`) and compared in constant time
(`hmac.compare_digest`), so a wrong guess learns nothing from the answer's timing. Without a
token, only a loopback address may be bound: an open port on a lab network that lets anyone
trigger sweeps is refused at start, with the fix in the message.
"""

from __future__ import annotations

import hmac
import ipaddress
from pathlib import Path

from pydantic import SecretStr

from aspider._exceptions import ConfigError

_SCHEME = "bearer "


def read_token(path: Path | None) -> SecretStr | None:
    """The token from its file (surrounding whitespace dropped); None when no file is set."""
    if path is None:
        return None
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"serve.token_file: cannot read it ({exc.strerror})") from exc
    if len(token) < 16:
        raise ConfigError(
            "serve.token_file: the token must be at least 16 characters "
            "(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > FILE`)"
        )
    return SecretStr(token)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`; a name that is not an address is not loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: SecretStr | None) -> None:
    """
    Refuse to listen beyond this machine without a token.

    Raises:
        ConfigError: a non-loopback `host` and no token.
    """
    if token is None and not is_loopback(host):
        raise ConfigError(
            f"serve.host {host!r} is not a loopback address and no token is set: set "
            "serve.token_file (ASPIDER_SERVE__TOKEN_FILE) to a secret file, or bind 127.0.0.1"
        )


def authorized(token: SecretStr | None, header: str | None) -> bool:
    """The `Authorization` header carries the token (always true when none is configured)."""
    if token is None:
        return True
    if header is None or header[: len(_SCHEME)].lower() != _SCHEME:
        return False
    offered = header[len(_SCHEME) :].strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(offered, token.get_secret_value().encode("utf-8"))
