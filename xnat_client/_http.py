"""
The one place that talks HTTP: the transport, concurrency, retries, and error translation.

Requests go straight to the transport (by default aiohttp's pool through httpx-aiohttp,
`_network`) with the session login flow driven around each one (`_exchange`). `_network.Wire`
bounds how many requests are in flight. Idempotent requests (GET, PUT, DELETE) are retried
with backoff on connection errors, timeouts and 502/503/504 (and 500 for GET); POST never is,
and neither is a request whose body was a one-shot stream. httpx exceptions are translated
in `_exchange.translate` and nowhere else.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx

from ._auth import LOGIN_PATH, Credentials, SessionAuth
from ._exceptions import BadResponse, ClientClosed, LoginRequired, Unavailable, XnatError
from ._exchange import Exchange, read_or_close, translate
from ._network import Wire, aiohttp_transport, tls_context
from ._responses import body_text, error_for, excerpt, is_login_page, looks_like_html
from ._settings import RetryPolicy, Timeouts, choose_proxy
from ._urls import UrlMaker

log = logging.getLogger("xnat_client")

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})
Params = Mapping[str, str]
_THREAD_DECODE_BYTES = 1 << 20  # decode bigger listings off the event loop
_WHOLE_BODY_BYTES = 1 << 20  # send bigger bytes bodies in pieces of this size
Content = bytes | AsyncIterable[bytes]


@dataclass(frozen=True)
class Network:
    """How the default transport reaches XNAT (ignored when a transport is given)."""

    verify: bool = True
    ca_bundle: Path | None = None
    proxy: str | None = None  # None: from the environment; "": none


@dataclass(frozen=True)
class Body:
    """A request body that can be produced again for a retry, unless `replayable` is False."""

    make: Callable[[], Content]
    replayable: bool = True
    length: int | None = None
    streamed: bool = True  # httpx itself can only resend bytes, never a stream

    @classmethod
    def of(cls, data: bytes) -> Body:
        """Bytes sent as they are; a large body in pieces, so the transport never copies it
        whole in one step on the event loop (aiohttp warns about that past 1 MiB)."""
        if len(data) <= _WHOLE_BODY_BYTES:
            return cls(lambda: data, True, len(data), streamed=False)
        return cls(lambda: _pieces(data), True, len(data))


async def _pieces(data: bytes) -> AsyncIterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), _WHOLE_BODY_BYTES):
        yield bytes(view[start : start + _WHOLE_BODY_BYTES])


class _Tally:
    def __init__(self) -> None:
        self.count = 0


_tally: ContextVar[_Tally | None] = ContextVar("xnat_client_tally", default=None)


def _retryable_status(method: str, status: int) -> bool:
    return status in RETRY_STATUSES or (status == 500 and method == "GET")


class HttpCore:
    """Sends requests below one XNAT base URL and returns read 2xx responses or raises."""

    def __init__(
        self,
        base_url: str,
        *,
        credentials: Credentials | None,
        transport: httpx.AsyncBaseTransport | None,
        concurrency: int,
        timeouts: Timeouts,
        retry: RetryPolicy,
        user_agent: str,
        network: Network = Network(),
    ) -> None:
        self.base = _base_url(base_url)
        self._urls = UrlMaker(self.base)
        self.auth = SessionAuth(credentials, self.url(LOGIN_PATH))
        if transport is None:
            transport = _default_transport(self.base, concurrency, network)
        self._transport = Wire(transport, concurrency)
        self._exchange = Exchange(self._transport, self.auth, self.base)
        self._headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
        self._timeout = {"timeout": timeouts.to_httpx().as_dict()}
        self._retry = retry
        self._rng = random.Random()
        self.closed = False

    @property
    def requests_sent(self) -> int:
        return self._transport.count

    def url(self, path: str, params: Params | None = None) -> httpx.URL:
        """The absolute URL of an already-quoted path below the base (keeps a context path)."""
        return self._urls.url(path, params)

    @contextmanager
    def tally(self) -> Iterator[_Tally]:
        """Count the attempts made inside the block (and tasks it starts)."""
        counter = _Tally()
        token = _tally.set(counter)
        try:
            yield counter
        finally:
            _tally.reset(token)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Body | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send with retries; return the read response if 2xx, else raise the typed error."""
        response = await self._send(method, path, params, body, headers, False)
        await self._raise_for_status(method, path, response)
        return response

    async def get_json(self, path: str, params: Params | None = None) -> Any:
        response = await self.request("GET", path, params={**(params or {}), "format": "json"})
        if len(response.content) > _THREAD_DECODE_BYTES:
            return await anyio.to_thread.run_sync(self.parse_json, "GET", path, response)
        return self.parse_json("GET", path, response)

    def parse_json(self, method: str, path: str, response: httpx.Response) -> Any:
        content = response.content
        if looks_like_html(content[:64].decode("utf-8", "replace")):
            raise self._bad(method, path, response, "an HTML page where JSON was expected")
        try:
            return json.loads(content)
        except ValueError:
            raise self._bad(method, path, response, "malformed JSON") from None

    def check_text(self, method: str, path: str, response: httpx.Response) -> str:
        text = body_text(response)
        if looks_like_html(text):
            raise self._bad(method, path, response, "an HTML page where a plain answer was due")
        return text

    @asynccontextmanager
    async def stream(
        self, path: str, params: Params | None = None, *, html_expected: bool = False
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """
        GET a body as chunks; retries happen before the first byte, never after.

        `html_expected`: the body may be an HTML page (a file download), so a page with a
        password field is not taken for XNAT's login page.
        """
        response = await self._send("GET", path, params, None, None, True, html_expected)
        try:
            if not response.is_success or (not html_expected and is_login_page(response)):
                await response.aread()
                await self._raise_for_status("GET", path, response)
            yield self._chunks(path, response)
        finally:
            await response.aclose()

    async def _chunks(self, path: str, response: httpx.Response) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_bytes():
                yield chunk
        except httpx.HTTPError as exc:
            raise self._translate("GET", path, exc) from exc

    async def _send(
        self,
        method: str,
        path: str,
        params: Params | None,
        body: Body | None,
        headers: Mapping[str, str] | None,
        stream: bool,
        html_expected: bool = False,
    ) -> httpx.Response:
        self.check_open()
        retryable = method in IDEMPOTENT and (body is None or body.replayable)
        started = anyio.current_time()
        relogin_repeated = False
        retry = 0
        while True:
            logins = self.auth.logins
            attempt_started = anyio.current_time() - started
            failure: XnatError
            try:
                response = await self._attempt(
                    method, path, params, body, headers, stream, html_expected
                )
            except Unavailable as exc:
                failure = exc
            else:
                if self.auth.lost(response, not html_expected) and self._may_repeat_after_login(
                    body, logins, relogin_repeated
                ):
                    relogin_repeated = True
                    await response.aclose()
                    continue
                if not (retryable and _retryable_status(method, response.status_code)):
                    return response
                await response.aread()
                failure = self._error(method, path, response)
            delay = self._retry.delay(retry, self._rng)
            if not retryable or not self._retry.may_retry(retry, attempt_started, delay):
                raise failure
            log.warning(
                "%s %s failed (%s); retry %d in %.2fs", method, path, failure, retry + 1, delay
            )
            retry += 1
            await anyio.sleep(delay)

    def _may_repeat_after_login(self, body: Body | None, logins: int, done: bool) -> bool:
        """A streamed body met a lost session that was renewed: repeat once, fresh body."""
        renewed = self.auth.logins > logins
        return renewed and not done and body is not None and body.streamed and body.replayable

    async def _attempt(
        self,
        method: str,
        path: str,
        params: Params | None,
        body: Body | None,
        headers: Mapping[str, str] | None,
        stream: bool,
        html_expected: bool,
    ) -> httpx.Response:
        counter = _tally.get()
        if counter is not None:
            counter.count += 1
        content = body.make() if body is not None else None
        request = httpx.Request(
            method,
            self.url(path, params),
            headers={**self._headers, **headers} if headers else self._headers,
            content=content,
            extensions=self._timeout,
        )
        if body is not None and body.length is not None:
            request.headers["Content-Length"] = str(body.length)
            request.headers.pop("Transfer-Encoding", None)
        try:
            response = await self._exchange.send(request, html_expected)
            if not stream:
                await read_or_close(response)
        except httpx.HTTPError as exc:
            raise self._translate(method, path, exc) from exc
        log.debug("%s %s -> %d", method, path, response.status_code)
        return response

    async def _raise_for_status(self, method: str, path: str, response: httpx.Response) -> None:
        if is_login_page(response):
            raise self._login_page(method, path, response)
        if 200 <= response.status_code < 300:
            return
        if response.status_code == 401 and not self.auth.has_credentials:
            raise error_for(
                method,
                path,
                401,
                "no credentials given (user/password, alias token or a netrc entry for this host)",
            )
        raise self._error(method, path, response)

    def _login_page(self, method: str, path: str, response: httpx.Response) -> LoginRequired:
        if self.auth.has_credentials:
            what = (
                "XNAT answered with its login page even after logging in again; a proxy in "
                "front of XNAT may not pass the session cookie on"
            )
        else:
            what = (
                "XNAT answered with its login page: give credentials (user/password, alias "
                "token or a netrc entry for this host)"
            )
        return LoginRequired(what, method=method, path=path, status=response.status_code)

    def _error(self, method: str, path: str, response: httpx.Response) -> XnatError:
        text = response.content[:4096].decode("utf-8", "replace")
        return error_for(method, path, response.status_code, text, self.auth.secrets())

    def _bad(self, method: str, path: str, response: httpx.Response, what: str) -> BadResponse:
        text = response.content[:4096].decode("utf-8", "replace")
        return BadResponse(
            what,
            method=method,
            path=path,
            status=response.status_code,
            excerpt=excerpt(text, self.auth.secrets()),
        )

    def _translate(self, method: str, path: str, exc: httpx.HTTPError) -> XnatError:
        host = f"{self.base.host}:{self.base.port}" if self.base.port else self.base.host
        return translate(method, path, exc, list(self.auth.secrets()), host)

    def check_open(self) -> None:
        if self.closed:
            raise ClientClosed(
                "this XnatClient is closed (aclose() or the end of `async with`); create a new one"
            )

    async def aclose(self) -> None:
        """Log out (DELETE /data/JSESSION) if logged in, then close the connection pool."""
        if self.closed:
            return
        self.closed = True
        with anyio.move_on_after(5, shield=True):
            await self._logout()
            await self._transport.aclose()

    async def _logout(self) -> None:
        session = self.auth.session
        if session is None:
            return
        self.auth.forget()
        request = httpx.Request(
            "DELETE", self.url(LOGIN_PATH), headers=self._headers, extensions=self._timeout
        )
        self.auth.add_cookies(request, session)
        try:
            response = await self._transport.handle_async_request(request)
            await read_or_close(response)
            log.debug("logout -> %d", response.status_code)
        except httpx.HTTPError as exc:
            log.info("logout failed (%s); the session will expire on its own", type(exc).__name__)


def _default_transport(
    base: httpx.URL, concurrency: int, network: Network
) -> httpx.AsyncBaseTransport:
    if not network.verify:
        log.warning(
            "TLS certificates are not checked (verify=false): anyone on the path to %s can "
            "read and change what is sent, the credentials included",
            base.host,
        )
    context = tls_context(network.verify, network.ca_bundle)
    proxy = choose_proxy(base, network.proxy)
    if proxy is not None:
        log.debug("reaching %s through the proxy %s", base.host, httpx.URL(proxy).host)
    return aiohttp_transport(concurrency, context, proxy)


def _base_url(url: str) -> httpx.URL:
    parsed = httpx.URL(url)
    if parsed.userinfo:
        raise ValueError("put credentials in user/password or a netrc file, not in the URL")
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"XNAT URL must look like https://host[/context], got {url!r}")
    return parsed.copy_with(query=None, fragment=None)
