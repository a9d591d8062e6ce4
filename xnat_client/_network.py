"""
httpcore's network backend with the socket looked up once per connection.

Why: before every request httpcore asks each pooled connection whether it has expired, and
for an idle one that means `get_extra_info("is_readable")`. On anyio streams each such call
builds anyio's whole attribute mapping (several closures and a `getpeername` system call)
just to reach the raw socket. With 16 pooled connections that was about 12 % of the engine's
CPU in a sweep that creates and uploads thousands of assessors (docs/benchmarks.md, Sweep).
Here the raw socket is taken once when the connection opens; reads, writes and TLS go to
httpcore's own anyio stream unchanged.
"""

# ruff: noqa: ASYNC109 - the timeout parameters are httpcore's interface, implemented here

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

# httpcore's own spelling of a socket option (its interface, which these classes implement).
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


def _is_readable(sock: socket.socket | None) -> bool:
    """A readable idle HTTP/1.1 socket holds only EOF or garbage: the pool drops it."""
    if sock is None or sock.fileno() == -1:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _is_readable(self._socket)
        return self._inner.get_extra_info(info)


class SocketCachingBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend whose streams answer `is_readable` from a cached socket."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _Stream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def http_transport(limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """
    httpx's transport (its TLS and proxy settings untouched) on the socket-caching backend.

    httpx does not take a network backend, so the pool's is set after construction; if a
    future httpx lays its pool out differently, the default backend stays (slower, correct).
    """
    transport = httpx.AsyncHTTPTransport(limits=limits)
    pool = getattr(transport, "_pool", None)
    if isinstance(pool, httpcore.AsyncConnectionPool) and hasattr(pool, "_network_backend"):
        pool._network_backend = SocketCachingBackend()
    return transport
