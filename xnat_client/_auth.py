"""
Credentials and the XNAT session login, as an `httpx.Auth` flow.

XNAT creates a new HTTP session for every cookie-less Basic request and caps sessions per user,
so a client that sent Basic credentials on every call could lock its own account out. The flow
therefore logs in once (`POST /data/JSESSION` with Basic), then sends only the JSESSIONID cookie.
When XNAT answers 401 (the session expired) it logs in again, once, and repeats the request.
Alias tokens are Basic credentials too (`alias:secret`), so they use the same flow.
"""

from __future__ import annotations

import base64
import logging
import netrc
from collections.abc import AsyncGenerator, Iterable
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import anyio
import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from ._exceptions import AuthFailed
from ._responses import error_for

log = logging.getLogger("xnat_client")

LOGIN_PATH = "/data/JSESSION"


class Credentials(BaseModel):
    """A user and password, or an alias token; the secret is a `SecretStr` and stays masked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user: str
    secret: SecretStr
    kind: Literal["password", "alias_token"] = "password"

    @classmethod
    def password(cls, user: str, password: str | SecretStr) -> Credentials:
        return cls(user=user, secret=_secret(password))

    @classmethod
    def alias_token(cls, alias: str, secret: str | SecretStr) -> Credentials:
        """An XNAT alias token (`/data/services/tokens/issue`), used as Basic `alias:secret`."""
        return cls(user=alias, secret=_secret(secret), kind="alias_token")

    @classmethod
    def from_netrc(cls, url: str, path: Path | None = None) -> Credentials | None:
        """
        Look the server up in a netrc file (default `~/.netrc`), as pyxnat and DAX do.

        Tries the whole URL (DAX writes `machine https://host/xnat`), then `host:port`, then the
        host name. Returns None when nothing matches or the file does not exist.
        """
        file = path if path is not None else Path.home() / ".netrc"
        if not file.exists():
            return None
        try:
            table = netrc.netrc(str(file))
        except netrc.NetrcParseError as exc:
            # The parser's message can quote a token from the file: keep only the line number.
            raise AuthFailed(f"cannot parse netrc file {file} (line {exc.lineno})") from None
        for machine in _netrc_names(url):
            found = table.authenticators(machine)
            if found is not None and found[2]:
                return cls.password(found[0] or "", found[2])
        return None

    def basic_header(self) -> str:
        raw = f"{self.user}:{self.secret.get_secret_value()}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


def _secret(value: str | SecretStr) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(value)


def _netrc_names(url: str) -> list[str]:
    parts = urlsplit(url)
    names = [url.rstrip("/"), f"{parts.scheme}://{parts.netloc}"]
    if parts.port is not None and parts.hostname:
        names.append(f"{parts.hostname}:{parts.port}")
    if parts.hostname:
        names.append(parts.hostname)
    return list(dict.fromkeys(names))


class SessionAuth(httpx.Auth):
    """
    Log in lazily, send the JSESSIONID cookie, re-login once on 401.

    Concurrent requests share one login: whoever sees a 401 first logs in again, the others
    notice the session changed and simply repeat with the new one. A request whose body was a
    one-shot stream cannot be repeated here; the flow still renews the session and returns the
    401, and `logins` tells the caller that a repeat with a fresh body is worth trying.
    """

    def __init__(self, credentials: Credentials | None, login_url: httpx.URL) -> None:
        self._credentials = credentials
        self._login_url = login_url
        self._session: str | None = None
        self._lock = anyio.Lock()
        self.logins = 0

    @property
    def has_credentials(self) -> bool:
        return self._credentials is not None

    @property
    def session(self) -> str | None:
        return self._session

    def secrets(self) -> Iterable[str]:
        """Values to mask in anything shown to a person."""
        values = [self._session or ""]
        if self._credentials is not None:
            values.append(self._credentials.secret.get_secret_value())
        return [v for v in values if v]

    def forget(self) -> None:
        self._session = None

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._credentials is None:
            yield request
            return
        if self._session is None:
            async with self._lock:
                if self._session is None:
                    await self._accept_login((yield self._login_request()))
        used = self._session
        response = yield self._with_session(request)
        if response.status_code != 401:
            return
        async with self._lock:
            if self._session == used:
                log.info("XNAT session expired; logging in again")
                await self._accept_login((yield self._login_request()))
        if isinstance(request.stream, httpx.ByteStream):
            yield self._with_session(request)

    def _with_session(self, request: httpx.Request) -> httpx.Request:
        request.headers.pop("Authorization", None)
        request.headers["Cookie"] = f"JSESSIONID={self._session}"
        return request

    def _login_request(self) -> httpx.Request:
        assert self._credentials is not None
        headers = {"Authorization": self._credentials.basic_header()}
        return httpx.Request("POST", self._login_url, headers=headers)

    async def _accept_login(self, response: httpx.Response) -> None:
        body = (await response.aread()).decode("utf-8", "replace")
        if response.status_code != 200:
            raise error_for("POST", LOGIN_PATH, response.status_code, body, self.secrets())
        session = response.cookies.get("JSESSIONID") or body.strip()
        if not session or len(session) > 256 or any(c in session for c in ";\r\n <"):
            raise AuthFailed(
                "login answered 200 without a session id", method="POST", path=LOGIN_PATH
            )
        self._session = session
        self.logins += 1
        log.debug("logged in to XNAT (login #%d)", self.logins)
