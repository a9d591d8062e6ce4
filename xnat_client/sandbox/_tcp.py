"""
Serve an `XnatServer` over real TCP on 127.0.0.1, inside the caller's event loop, over plain
HTTP or over HTTPS: given an `ssl.SSLContext` (see `make_tls_identity`) or a PEM `certfile`.

The socket is bound and listening before uvicorn starts, so the URL is valid the moment it is
returned: early connections wait in the kernel backlog.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl as ssl_module
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import anyio
import uvicorn

from xnat_client.sandbox._app import XnatServer

LOOPBACK = "127.0.0.1"


class _QuietServer(uvicorn.Server):
    """Leaves signal handling to the caller (pytest, the CLI): no handlers are installed."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind_loopback(port: int = 0) -> socket.socket:
    """
    A listening socket on 127.0.0.1 (port 0: any free port).

    The protocol is named (IPPROTO_TCP) because asyncio only sets TCP_NODELAY on accepted
    sockets whose protocol says TCP; without it Nagle holds each response body back until the
    client's delayed ACK of the headers, about 40 ms per request.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@asynccontextmanager
async def serve_tcp(
    server: XnatServer,
    port: int = 0,
    ssl: ssl_module.SSLContext | None = None,
    *,
    certfile: Path | None = None,
) -> AsyncIterator[str]:
    """
    Run `server` on 127.0.0.1:`port` for the duration of the block; yields its base URL.

    Over TLS with `ssl` (the URL names 127.0.0.1, which `make_tls_identity` certifies) or with
    `certfile` (a PEM file holding the private key and the certificate chain; the URL is
    `https://localhost:PORT`, the name a certificate for this machine carries).
    """
    sock = bind_loopback(port)
    config = uvicorn.Config(
        server.app,
        lifespan="off",
        log_level=logging.CRITICAL,
        access_log=False,
        timeout_graceful_shutdown=1,
        ssl_context_factory=None if ssl is None else (lambda _config, _default: ssl),
        ssl_certfile=str(certfile) if certfile is not None else None,
    )
    runner = _QuietServer(config)
    bound = sock.getsockname()[1]
    # A bare asyncio task rather than a task group: uvicorn only runs on asyncio anyway, and
    # errors raised in the caller's block then reach the caller as themselves, not wrapped in
    # an ExceptionGroup.
    task = asyncio.get_running_loop().create_task(runner.serve([sock]))
    try:
        if certfile is not None:
            yield f"https://localhost:{bound}"
        else:
            yield f"{'http' if ssl is None else 'https'}://{LOOPBACK}:{bound}"
    finally:
        runner.should_exit = True
        with anyio.CancelScope(shield=True):
            await task
        sock.close()
