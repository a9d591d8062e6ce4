"""
The client's way onto the network: httpx's transport interface over aiohttp, plus thin glue.

The default transport is `httpx_aiohttp.AiohttpTransport`: aiohttp parses in C, pools
keep-alive connections, speaks TLS and goes through HTTP proxies (plain forwarding for http,
CONNECT for https). Everything above it stays httpx (requests, responses, the login flow,
`MockTransport` and respx routers in tests). What this module adds:

- the aiohttp session it runs on: `concurrency` pooled connections, the TLS context from the
  settings, and no cookie jar of its own (the login flow keeps the cookies, `_auth`);
- the proxy, decided once per client from the settings or the standard environment
  variables (`_settings.choose_proxy`). aiohttp's own `trust_env` would look the proxy up
  in a worker thread for every request, and would also send Basic credentials from
  `~/.netrc` on every request (which opens a new XNAT session each time) and raise on the
  login request, which carries its own;
- `Wire`, around whichever transport is used: counts requests, bounds how many are in flight
  (a streamed answer holds its place until it is closed), and turns aiohttp errors that the
  library passes through untranslated into httpx's, so `_http` translates one family only.
"""

from __future__ import annotations

import functools
import logging
import os
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import anyio
import httpx
from httpx_aiohttp import AiohttpTransport

log = logging.getLogger("xnat_client")

# Idle connections are dropped before common server keep-alive timeouts (uvicorn 5 s, Tomcat
# 20 s, nginx 75 s) so that a request rarely meets a connection the server is closing.
KEEPALIVE_SECONDS = 4.0


def tls_context(verify: bool, ca_bundle: Path | None) -> ssl.SSLContext:
    """
    Certificates checked against `ca_bundle`, else the system's store; or not at all.

    Loading the system's store takes tens of milliseconds, so clients with the same settings
    (and the same SSL_CERT_FILE / SSL_CERT_DIR) share one context; nothing changes it after.
    """
    env = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    return _tls_context(verify, ca_bundle, env)


@functools.lru_cache(maxsize=8)
def _tls_context(
    verify: bool, ca_bundle: Path | None, _env: tuple[str | None, str | None]
) -> ssl.SSLContext:
    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_bundle is not None:
        if not ca_bundle.is_file():
            raise ValueError(f"ca_bundle {ca_bundle} is not a file")
        return ssl.create_default_context(cafile=str(ca_bundle))
    return ssl.create_default_context()  # honours SSL_CERT_FILE and SSL_CERT_DIR


def aiohttp_transport(
    concurrency: int, context: ssl.SSLContext, proxy: str | None
) -> httpx.AsyncBaseTransport:
    """The default transport: aiohttp with `concurrency` pooled connections."""

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=concurrency, ssl=context, keepalive_timeout=KEEPALIVE_SECONDS
        )
        return aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
        )

    return AiohttpTransport(
        verify=context, proxy=httpx.Proxy(proxy) if proxy else None, client=session
    )


@contextmanager
def _foreign_errors() -> Iterator[None]:
    """aiohttp errors the library does not map (a malformed answer, ...) as httpx's."""
    try:
        yield
    except aiohttp.ClientError as exc:
        raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}") from exc


class Wire(httpx.AsyncBaseTransport):
    """Counts requests and keeps at most `concurrency` in flight, streamed answers included."""

    def __init__(self, inner: httpx.AsyncBaseTransport, concurrency: int) -> None:
        self.inner = inner
        self.count = 0
        self._limiter = anyio.CapacityLimiter(concurrency)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        place = object()  # its own borrower: released by whoever closes the answer
        await self._limiter.acquire_on_behalf_of(place)
        try:
            with _foreign_errors():
                response = await self.inner.handle_async_request(request)
        except BaseException:
            self._limiter.release_on_behalf_of(place)
            raise
        if response.is_closed:  # made whole (MockTransport, respx): nothing left to hold
            self._limiter.release_on_behalf_of(place)
            return response
        release = _once(lambda: self._limiter.release_on_behalf_of(place))
        response.stream = _Held(response.stream, release)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def _once(action: Callable[[], None]) -> Callable[[], None]:
    done = False

    def run() -> None:
        nonlocal done
        if not done:
            done = True
            action()

    return run


class _Held(httpx.AsyncByteStream):
    """An answer's body; closing it gives its place back exactly once."""

    def __init__(
        self, inner: httpx.SyncByteStream | httpx.AsyncByteStream, release: Callable[[], None]
    ) -> None:
        assert isinstance(inner, httpx.AsyncByteStream)
        self._inner = inner
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _foreign_errors():
            async for chunk in self._inner:
                yield chunk

    async def aclose(self) -> None:
        try:
            with _foreign_errors():
                await self._inner.aclose()
        finally:
            self._release()
