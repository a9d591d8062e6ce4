"""
Credentials and the XNAT session login, as an `httpx.Auth` flow.

XNAT creates a new HTTP session for every cookie-less Basic request and caps sessions per user,
so a client that sent Basic credentials on every call could lock its own account out. The flow
therefore logs in once (`POST /data/JSESSION` with Basic), then sends only the JSESSIONID cookie.
When the session is lost (401, or the login page where an API answer was due) it logs in
again, once, and repeats the request.
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
from ._responses import error_for, is_login_page, redirect_error

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
    Log in lazily, send the JSESSIONID cookie, re-login once when the session is lost.

    The session is lost when XNAT answers 401, or when its login page comes back with 200
    instead of the API's answer (as some proxies in front of XNAT do once the session expired;
    `_http` reads such a page so that it can be recognised here). Concurrent requests share one
    login: whoever sees the loss first logs in again, the others notice the session changed
    and simply repeat with the new one. A request whose body was a one-shot stream cannot be
    repeated here; the flow still renews the session and returns the answer, and `logins`
    tells the caller that a repeat with a fresh body is worth trying.

    Other cookies (a load balancer's sticky cookie that pins the client to the node holding
    its session) are kept in an `httpx.Cookies` jar and sent along with the JSESSIONID.
    XNAT's own cookies are not: the session is this flow's, and SESSION_EXPIRATION_TIME is
    for the web UI's timer.
    """

    def __init__(self, credentials: Credentials | None, login_url: httpx.URL) -> None:
        self._credentials = credentials
        self._login_url = login_url
        self._session: str | None = None
        self._lock = anyio.Lock()
        self._cookies = httpx.Cookies()
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

    @staticmethod
    def lost(response: httpx.Response, login_pages: bool = True) -> bool:
        """The answer says the session is gone: 401, or (`login_pages`) the login page."""
        return response.status_code == 401 or (login_pages and is_login_page(response))

    def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        return self.flow(request)

    async def flow(
        self, request: httpx.Request, login_pages: bool = True
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The login flow; `login_pages=False` for an answer that may be any HTML page."""
        if self._credentials is None:
            self.remember((yield self.add_cookies(request, None)))
            return
        if self._session is None:
            async with self._lock:
                if self._session is None:
                    await self._accept_login((yield self._login_request()))
        used = self._session
        response = yield self.add_cookies(request, used)
        self.remember(response)
        if not self.lost(response, login_pages):
            return
        async with self._lock:
            if self._session == used:
                log.info("XNAT session expired; logging in again")
                await self._accept_login((yield self._login_request()))
        if isinstance(request.stream, httpx.ByteStream):
            self.remember((yield self.add_cookies(request, self._session)))

    def add_cookies(self, request: httpx.Request, session: str | None) -> httpx.Request:
        """Send `session` (if any) and the kept cookies that apply; never Basic credentials."""
        request.headers.pop("Authorization", None)
        request.headers.pop("Cookie", None)
        if self._cookies.jar:
            self._cookies.set_cookie_header(request)
        if session is not None:
            theirs = request.headers.get("Cookie")
            own = f"JSESSIONID={session}"
            request.headers["Cookie"] = f"{own}; {theirs}" if theirs else own
        return request

    def remember(self, response: httpx.Response) -> None:
        """Keep the cookies an answer sets, other than XNAT's own (cheap when there are none)."""
        names = (v.split("=", 1)[0].strip() for v in response.headers.get_list("set-cookie"))
        if any(name not in _XNAT_COOKIES for name in names):
            self._cookies.extract_cookies(response)
            for name in _XNAT_COOKIES:
                self._cookies.delete(name)

    def _login_request(self) -> httpx.Request:
        assert self._credentials is not None
        request = httpx.Request("POST", self._login_url)
        self.add_cookies(request, None)
        request.headers["Authorization"] = self._credentials.basic_header()
        return request

    async def _accept_login(self, response: httpx.Response) -> None:
        body = (await response.aread()).decode("utf-8", "replace")
        self.remember(response)
        if response.is_redirect:
            raise redirect_error("POST", LOGIN_PATH, response)
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


_XNAT_COOKIES = ("JSESSIONID", "SESSION_EXPIRATION_TIME")
