"""
`aspider serve` as one process: the HTTP server (uvicorn) and the service in one event loop.

The listening socket is bound before anything else, so a wrong address or a port in use fails
at once, and a non-loopback address without a token is refused before binding. SIGTERM (and
SIGINT) stop it gracefully: uvicorn stops accepting connections and finishes the requests in
flight, the service finishes the sweeps in flight (within `serve.stop_grace`), the leases are
released, and the process exits 0. SIGKILL at any moment loses nothing either: the next start
resumes from what XNAT and the job directories say, exactly as after a killed `aspider run`.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import anyio
import uvicorn

from aspider._exceptions import ConfigError
from aspider.processors import Processor
from aspider.run import NETWORK, Wiring, open_backend
from aspider.serve.auth import check_bind, read_token
from aspider.serve.service import Service
from aspider.serve.web import build_app
from aspider.settings import AspiderSettings

log = logging.getLogger("aspider.serve")


class _Uvicorn(uvicorn.Server):
    """Signals are ours (see `serve`), so uvicorn installs no handlers of its own."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free port)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(f"serve: cannot listen on {host}:{port} ({exc.strerror or exc})") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        why = exc.strerror or str(exc)
        fix = (
            "; another program has it: choose another with --port (or serve.port)"
            if exc.errno == errno.EADDRINUSE
            else ""
        )
        raise ConfigError(f"serve: cannot listen on {host}:{port} ({why}){fix}") from exc
    sock.listen(128)
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def serve(
    settings: AspiderSettings,
    processors: Sequence[Processor],
    projects: Sequence[str],
    *,
    wiring: Wiring = NETWORK,
    stop: anyio.Event | None = None,
    on_ready: Callable[[str], None] | None = None,
    signals: bool = True,
) -> None:
    """
    Run until SIGTERM/SIGINT (with `signals`) or until `stop` is set.

    Raises:
        ConfigError: no project, an unreadable token file, or a refused or failed bind.
    """
    if not projects:
        raise ConfigError("serve: no projects configured (settings: projects)")
    token = read_token(settings.serve.token_file)
    check_bind(settings.serve.host, token)
    sock = bind(settings.serve.host, settings.serve.port)
    stop = stop or anyio.Event()
    try:
        async with wiring.xnat(settings) as xnat, open_backend(settings) as backend:
            service = Service(settings, processors, projects, xnat, backend)
            app = build_app(service, token, settings.serve.max_body)
            config = uvicorn.Config(
                app,
                lifespan="off",
                access_log=False,
                log_level="warning",
                timeout_graceful_shutdown=5,
            )
            http = _Uvicorn(config)
            http_done = anyio.Event()
            async with anyio.create_task_group() as tg:
                tg.start_soon(service.run)
                tg.start_soon(_serve_http, http, sock, http_done)
                if signals:
                    tg.start_soon(_on_signals, stop)
                url = url_of(sock)
                log.info("serving on %s", url)
                if on_ready is not None:
                    on_ready(url)
                await stop.wait()
                log.info("stopping: no new events; sweeps in flight finish")
                http.should_exit = True
                await service.stop(settings.serve.stop_grace)
                with anyio.move_on_after(10):
                    await http_done.wait()
                tg.cancel_scope.cancel()  # past the grace: what is left is cancelled
    finally:
        sock.close()


async def _serve_http(http: uvicorn.Server, sock: socket.socket, done: anyio.Event) -> None:
    try:
        await http.serve([sock])
    finally:
        done.set()


async def _on_signals(stop: anyio.Event) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as received:
        async for _ in received:
            stop.set()
            return
