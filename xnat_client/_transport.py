"""
The client's default transport: a pool of keep-alive HTTP/1.1 connections (`_connection`).

It implements `httpx.AsyncBaseTransport`, so everything above it (the client, the session
login, respx and `httpx.MockTransport` in tests) stays httpx. It needs asyncio, which the
engine runs on. Proxies and HTTP/2 are not offered; XNAT speaks HTTP/1.1 and is reached
directly.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import AsyncIterator

import httpx

from ._connection import Connection, Deadlines, Head

KEEPALIVE_EXPIRY = 5.0  # seconds an idle connection is trusted; servers close them after 5-20 s
Origin = tuple[str, str, int]


class PooledTransport(httpx.AsyncBaseTransport):
    """Up to `max_connections` connections in use at once; idle ones are reused newest first."""

    def __init__(
        self,
        max_connections: int,
        *,
        ssl_context: ssl.SSLContext | None = None,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[Origin, list[Connection]] = {}
        self._ssl_context = ssl_context
        self._expiry = keepalive_expiry
        self.connections_opened = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        deadlines = Deadlines.of(request)
        await self._acquire(deadlines.pool)
        connection: Connection | None = None
        try:
            connection = self._reuse(_origin(request.url)) or await self._connect(
                request.url, deadlines.connect
            )
            head = await connection.send(request, deadlines)
        except BaseException:
            if connection is not None:
                connection.close()
            self._slots.release()
            raise
        whole = connection.whole_body()
        if whole is not None:  # no body stream to follow: the connection is free already
            self.release(connection)
            return _response(head, content=whole)
        return _response(head, stream=_Body(self, connection, deadlines.read))

    async def _acquire(self, seconds: float | None) -> None:
        if not self._slots.locked():  # a free slot is taken at once, no timer needed
            await self._slots.acquire()
            return
        try:
            async with asyncio.timeout(seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout(f"no free connection within {seconds:g} s") from None

    def _reuse(self, origin: Origin) -> Connection | None:
        idle = self._idle.get(origin)
        oldest_trusted = time.monotonic() - self._expiry
        while idle:
            connection = idle.pop()
            if not connection.closed and connection.idle_since >= oldest_trusted:
                return connection
            connection.close()
        return None

    async def _connect(self, url: httpx.URL, seconds: float | None) -> Connection:
        secure = url.scheme == "https"
        if secure and self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        port = url.port or (443 if secure else 80)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(seconds):
                _, connection = await loop.create_connection(
                    Connection,
                    url.host,
                    port,
                    ssl=self._ssl_context if secure else None,
                    server_hostname=url.host if secure else None,
                    proto=socket.IPPROTO_TCP,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"no connection within {seconds:g} s") from None
        except OSError as exc:  # ssl.SSLError is an OSError too
            raise httpx.ConnectError(f"cannot connect to {url.host}:{port} ({exc})") from exc
        connection.origin = _origin(url)
        self.connections_opened += 1
        return connection

    def release(self, connection: Connection) -> None:
        """A response is finished with: keep its connection if it can carry another one."""
        self._slots.release()
        if connection.reusable:
            connection.idle_since = time.monotonic()
            self._idle.setdefault(connection.origin, []).append(connection)
        else:
            connection.close()

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()


class _Body(httpx.AsyncByteStream):
    """A response body; closing it, read or not, gives the connection back exactly once."""

    def __init__(self, pool: PooledTransport, connection: Connection, timeout: float | None):
        self._pool = pool
        self._connection: Connection | None = connection
        self._timeout = timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._connection is None:
            raise httpx.StreamClosed()
        async for chunk in self._connection.body(self._timeout):
            yield chunk

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self._pool.release(connection)


def _origin(url: httpx.URL) -> Origin:
    return (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))


def _response(
    head: Head, *, content: bytes | None = None, stream: _Body | None = None
) -> httpx.Response:
    extensions = {"http_version": b"HTTP/1.1", "reason_phrase": head.reason}
    if content is None:
        return httpx.Response(
            head.status, headers=head.headers, stream=stream, extensions=extensions
        )
    response = httpx.Response(
        head.status, headers=head.headers, stream=httpx.ByteStream(content), extensions=extensions
    )
    if "content-encoding" not in response.headers:
        # A whole body that is not encoded is the content as it is; httpx's read() would pass
        # it through its decoder and chunker machinery, several percent of the client's CPU.
        response._content = content
        try:
            response.content  # noqa: B018 - proves this httpx keeps content where we put it
            return response
        except httpx.ResponseNotRead:
            pass
    response.read()
    return response
