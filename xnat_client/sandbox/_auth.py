"""
Who is asking: HTTP Basic credentials or a JSESSIONID cookie, as Spring Security decides it.

A cookie-less Basic request opens a new HTTP session (XNAT's RegisterSessionAuthenticationStrategy),
so the answer then carries a fresh JSESSIONID; sessions expire after `timeout` idle seconds
(default 15 minutes, XNAT's `sessionTimeout`). Bad Basic credentials win over a good cookie:
the Basic filter runs first (XnatBasicAuthenticationFilter).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

LOGIN_FAILED = "Login attempt failed. Please try again."


@dataclass(frozen=True, slots=True)
class Identity:
    """The outcome of authenticating one request."""

    user: str | None  # None: anonymous
    new_session: str | None = None  # a session opened by this request, to send as a cookie
    failed: bool = False  # Basic credentials were given and are wrong


class Sessions:
    """Users and their live HTTP sessions."""

    def __init__(
        self,
        users: dict[str, str],
        timeout: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.users = dict(users)
        self.timeout = timeout
        self._clock = clock
        self._live: dict[str, tuple[str, float]] = {}

    def check_password(self, user: str, password: str) -> bool:
        expected = self.users.get(user)
        return expected is not None and secrets.compare_digest(expected, password)

    def open(self, user: str) -> str:
        token = secrets.token_hex(16).upper()
        self._live[token] = (user, self._clock())
        return token

    def user_of(self, token: str | None) -> str | None:
        """The user of a live session, touching it; None for unknown or expired tokens."""
        if not token or token not in self._live:
            return None
        user, seen = self._live[token]
        now = self._clock()
        if now - seen > self.timeout:
            del self._live[token]
            return None
        self._live[token] = (user, now)
        return user

    def close(self, token: str | None) -> None:
        if token:
            self._live.pop(token, None)

    def expire_all(self) -> None:
        """Forget every session, as a server restart or a timeout would."""
        self._live.clear()

    def identify(self, authorization: str | None, cookie: str | None) -> Identity:
        from_cookie = self.user_of(cookie)
        if not authorization or not authorization.lower().startswith("basic "):
            return Identity(from_cookie)
        credentials = _decode_basic(authorization)
        if credentials is None or not self.check_password(*credentials):
            return Identity(None, failed=True)
        user = credentials[0]
        if from_cookie == user:
            return Identity(user)
        return Identity(user, new_session=self.open(user))


def _decode_basic(header: str) -> tuple[str, str] | None:
    try:
        raw = base64.b64decode(header.split(" ", 1)[1].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, IndexError):
        return None
    user, sep, password = raw.partition(":")
    if not sep:
        return None
    return user.rsplit("/", 1)[-1], password
