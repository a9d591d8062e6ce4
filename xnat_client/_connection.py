"""
One HTTP/1.1 client connection: an asyncio protocol whose responses httptools (llhttp) parses.

Why not httpcore: an engine that creates and uploads thousands of assessors is bound by the
CPU it spends per request, and httpcore's per-request machinery (anyio streams, h11 events,
idle-connection probing, pool bookkeeping) cost about 1.1 ms of the 1.6 ms a PUT took on
this stack; parsing in C from protocol callbacks costs a small fraction of that
(docs/benchmarks.md, "HTTP transport"). asyncio already reports a connection the server
closed, so no idle connection needs probing before reuse.

One request at a time, as HTTP/1.1 without pipelining allows. Response bodies are buffered
only up to `_HIGH_WATER` bytes before reading pauses, and request bodies wait for the socket
to drain, so a large upload or download stays in constant memory. Failures are raised as
httpx's exceptions because the transport interface promises them and `_http` translates
them once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httptools
import httpx

_HIGH_WATER = 1 << 18  # pause reading once this much body is buffered unread
_LOW_WATER = 1 << 16


@dataclass(frozen=True)
class Head:
    """The status line and headers of a response; its body is read from the connection."""

    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Deadlines:
    """Seconds each kind of wait may take (None: forever), from the request's extensions."""

    connect: float | None = None
    read: float | None = None
    write: float | None = None
    pool: float | None = None

    @classmethod
    def of(cls, request: httpx.Request) -> Deadlines:
        given = request.extensions.get("timeout") or {}
        return cls(given.get("connect"), given.get("read"), given.get("write"), given.get("pool"))


class Connection(asyncio.Protocol):
    """Sends one request at a time and hands its response body out as it arrives."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._failure: httpx.TransportError | None = None
        self._writable = True
        self.closed = False
        self.idle_since = 0.0
        self.origin: tuple[str, str, int] = ("", "", 0)
        self._reset(head_only=False)

    def _reset(self, *, head_only: bool) -> None:
        self._head_only = head_only
        self._status = 0
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._head_done = False
        self._body: deque[bytes] = deque()
        self._buffered = 0
        self._complete = False
        self._keep_alive = False
        self._reading_paused = False

    @property
    def reusable(self) -> bool:
        """The last response was read to its end and both sides keep the connection."""
        return self._complete and self._keep_alive and not self.closed and not self._body

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self.closed = True

    # asyncio's callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("the server switched protocols unasked"))
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed HTTP response ({exc})"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._head_done and not self._complete and self._delimited_by_close():
            self._complete = True
            self._keep_alive = False
        elif not self._complete:
            reason = f": {exc}" if exc is not None else ""
            self._failure = self._failure or httpx.ReadError(
                f"the server closed the connection before the response ended{reason}"
            )
        self._writable = True
        self._wake()

    def pause_writing(self) -> None:
        self._writable = False

    def resume_writing(self) -> None:
        self._writable = True
        self._wake()

    # httptools' callbacks

    def on_status(self, reason: bytes) -> None:
        self._reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # informational: the real answer follows
            self._headers = []
            self._reason = b""
            return
        self._status = status
        self._keep_alive = self._parser.should_keep_alive()
        self._head_done = True
        if self._head_only:  # llhttp cannot be told a HEAD answer has no body
            self._complete = True
            self._keep_alive = False
            self.close()
        self._wake()

    def on_body(self, data: bytes) -> None:
        self._body.append(data)
        self._buffered += len(data)
        if self._buffered > _HIGH_WATER and not self._reading_paused and self._transport:
            self._reading_paused = True
            self._transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._head_done:
            self._complete = True
            self._wake()

    # the request

    async def send(self, request: httpx.Request, deadlines: Deadlines) -> Head:
        """Write the request, then wait for the response's status line and headers."""
        if self.closed or self._transport is None:
            raise httpx.ConnectError("the connection was closed before the request was sent")
        self._reset(head_only=request.method == "HEAD")
        head = _request_head(request)
        stream = request.stream
        if isinstance(stream, httpx.ByteStream):
            self._transport.write(head + b"".join(stream))
        else:
            await self._write_body(request, head, deadlines.write)
        while not self._head_done:
            self._raise_failure()
            await self._wait(deadlines.read, httpx.ReadTimeout, "the response")
        return Head(self._status, self._reason, self._headers)

    async def _write_body(self, request: httpx.Request, head: bytes, seconds: float | None) -> None:
        """A streamed body; the head goes out with its first chunk (one send, not two)."""
        chunked = request.headers.get("transfer-encoding", "").lower() == "chunked"
        assert isinstance(request.stream, httpx.AsyncByteStream)
        assert self._transport is not None
        unsent = head
        async for chunk in request.stream:
            if self._head_done or self.closed:  # the server answered early: stop sending
                self._keep_alive = False
                return
            if chunk:
                framed = b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk
                self._transport.write(unsent + framed if unsent else framed)
                unsent = b""
            while not self._writable:
                await self._wait(seconds, httpx.WriteTimeout, "the upload to drain")
            self._raise_failure()
        self._transport.write(unsent + b"0\r\n\r\n" if chunked else unsent)

    def whole_body(self) -> bytes | None:
        """The body if the response already ended (most answers arrive in one read)."""
        if not self._complete:
            return None
        body = b"".join(self._body)
        self._body.clear()
        self._buffered = 0
        return body

    async def body(self, read_timeout: float | None) -> AsyncIterator[bytes]:
        """The response body's chunks; raises if the connection fails before its end."""
        while True:
            while self._body:
                chunk = self._body.popleft()
                self._buffered -= len(chunk)
                if self._reading_paused and self._buffered < _LOW_WATER and self._transport:
                    self._reading_paused = False
                    self._transport.resume_reading()
                yield chunk
            if self._complete:
                return
            self._raise_failure()
            await self._wait(read_timeout, httpx.ReadTimeout, "the response body")

    async def _wait(
        self, seconds: float | None, error: type[httpx.TimeoutException], what: str
    ) -> None:
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        # A timer on the future itself: cheaper than an asyncio.timeout scope per wait.
        timer = None if seconds is None else loop.call_later(seconds, _expire, waiter)
        try:
            await waiter
        except _Expired:
            self.close()
            raise error(f"no progress on {what} within {seconds:g} s") from None
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, failure: httpx.TransportError) -> None:
        self._failure = self._failure or failure
        self.close()
        self._wake()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure
        if self.closed and not self._complete:
            raise httpx.ReadError("the server closed the connection")

    def _delimited_by_close(self) -> bool:
        """A response with neither length nor chunking ends when the server closes."""
        names = {name.lower() for name, _ in self._headers}
        return b"content-length" not in names and b"transfer-encoding" not in names


class _Expired(Exception):
    """A wait's timer fired before the connection made progress."""


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(_Expired())


def _request_head(request: httpx.Request) -> bytes:
    parts = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    for name, value in request.headers.raw:
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)
