"""The socket-caching network backend: in place under httpx; server-closed connections dropped."""

from __future__ import annotations

import asyncio

import anyio
import httpx
import pytest

from xnat_client._network import SocketCachingBackend, http_transport

pytestmark = pytest.mark.anyio


def test_httpx_transport_uses_the_caching_backend() -> None:
    """If httpx changed its pool's layout this fails, instead of silently losing the speed-up."""
    transport = http_transport(httpx.Limits(max_connections=4))
    assert isinstance(transport._pool._network_backend, SocketCachingBackend)


async def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    """The server closes each connection after one answer; the next request opens a new one."""
    connections = 0
    closed = asyncio.Event()

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        closed.set()

    server = await asyncio.start_server(answer_once, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(transport=http_transport(httpx.Limits())) as client:
            with anyio.fail_after(10):
                first = await client.get(f"http://127.0.0.1:{port}/a")
                await closed.wait()  # closed on the server: over loopback the FIN is already in
                second = await client.get(f"http://127.0.0.1:{port}/b")
    finally:
        server.close()
        await server.wait_closed()
    assert (first.text, second.text) == ("ok", "ok")
    assert connections == 2
