"""
`XnatClient` through an HTTP proxy on 127.0.0.1, chosen the way users set one: HTTP_PROXY /
HTTPS_PROXY / NO_PROXY in the environment, or the `proxy` setting.

The proxy is written here (h11 on the client side, httpx to the server): plain forwarding for
http URLs and CONNECT tunnels for https. The XNAT URL names `xnat.invalid`, a host only the
proxy can resolve (it maps that name to 127.0.0.1 and refuses every other), so a snapshot
that succeeds went through the proxy.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import anyio
import h11
import httpx
import pytest
import trustme

from xnat_client import RetryPolicy, XnatClient, XnatSettings
from xnat_client.sandbox import XnatServer, generate_project, serve_tcp

pytestmark = pytest.mark.anyio

NAME = "xnat.invalid"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
FAST = RetryPolicy(attempts=2, backoff_initial=0.001, backoff_max=0.002, budget=5.0)


class Proxy:
    """A forwarding proxy that knows one host name, and notes every request it is sent."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.seen: list[tuple[str, str]] = []  # (method, request target)
        self._upstream = httpx.AsyncClient(trust_env=False)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while (head := await self._next(conn, reader)) is not None:
                request, body = head
                method, target = request.method.decode(), request.target.decode()
                self.seen.append((method, target))
                if method == "CONNECT":
                    await self._tunnel(conn, reader, writer, target)
                    return
                await self._forward(conn, writer, request, body)
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return
                conn.start_next_cycle()
        finally:
            writer.close()

    async def _next(
        self, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> tuple[h11.Request, bytes] | None:
        request: h11.Request | None = None
        body = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert request is not None
                return request, body
            else:  # the client closed, or switched protocol mid-request
                return None

    def _resolve(self, host: str) -> str:
        if host not in self.names:
            raise LookupError(f"the proxy cannot resolve {host}")
        return self.names[host]

    async def _forward(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, head: h11.Request, body: bytes
    ) -> None:
        url = httpx.URL(head.target.decode())
        upstream = url.copy_with(host=self._resolve(url.host))
        headers = [(k, v) for k, v in head.headers if k.lower() not in (b"proxy-connection",)]
        answer = await self._upstream.request(
            head.method.decode(), upstream, headers=headers, content=body
        )
        kept = [
            (k, v)
            for k, v in answer.headers.raw
            if k.lower() not in (b"content-length", b"transfer-encoding", b"connection")
        ]
        kept.append((b"content-length", str(len(answer.content)).encode()))
        data = conn.send(h11.Response(status_code=answer.status_code, headers=kept)) or b""
        data += conn.send(h11.Data(data=answer.content)) or b""
        writer.write(data + (conn.send(h11.EndOfMessage()) or b""))
        await writer.drain()

    async def _tunnel(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        target: str,
    ) -> None:
        host, _, port = target.rpartition(":")
        far_reader, far_writer = await asyncio.open_connection(self._resolve(host), int(port))
        writer.write(conn.send(h11.Response(status_code=200, headers=[])) or b"")
        leftover, _ = conn.trailing_data
        if leftover:
            far_writer.write(leftover)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_pipe, reader, far_writer)
                tg.start_soon(_pipe, far_reader, writer)
        finally:
            far_writer.close()

    async def aclose(self) -> None:
        await self._upstream.aclose()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        with suppress(OSError):
            writer.write_eof()


@asynccontextmanager
async def running_proxy(names: dict[str, str]) -> AsyncIterator[tuple[Proxy, str]]:
    proxy = Proxy(names)
    listener = await asyncio.start_server(proxy.serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        yield proxy, f"http://127.0.0.1:{port}"
    finally:
        listener.close()
        await proxy.aclose()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variable from the machine leaks into a test."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def make_server() -> XnatServer:
    server = XnatServer(users={"admin": "admin-pw"})
    generate_project(server, "DEMO", sessions=5, seed=5)
    return server


def settings(url: str, **extra: object) -> XnatSettings:
    return XnatSettings.model_validate(
        {"url": url, "user": "admin", "password": "admin-pw", "retry": FAST, **extra}
    )


async def test_http_proxy_from_the_environment_forwards_the_snapshot(
    clean_env: pytest.MonkeyPatch,
) -> None:
    """HTTP_PROXY set: an http URL only the proxy can resolve gives the whole snapshot."""
    server = make_server()
    async with serve_tcp(server) as direct, running_proxy({NAME: "127.0.0.1"}) as (proxy, at):
        clean_env.setenv("HTTP_PROXY", at)
        url = direct.replace("127.0.0.1", NAME)
        with anyio.fail_after(20):
            async with XnatClient.from_settings(settings(url)) as xnat:
                snapshot = await xnat.project_snapshot("DEMO")
    assert len(snapshot.sessions) == 5
    methods = [m for m, _ in proxy.seen]
    assert methods.count("POST") == 1  # the login, through the proxy too
    assert methods.count("GET") == 3
    assert all(target.startswith(f"http://{NAME}:") for _, target in proxy.seen)
    assert len(server.requests) == len(proxy.seen)


async def test_https_proxy_tunnels_tls_with_connect(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """HTTPS_PROXY set: an https URL goes through a CONNECT tunnel, the certificate checked."""
    ca = trustme.CA()
    pem, ca_pem = tmp_path / "server.pem", tmp_path / "ca.pem"
    ca.issue_cert(NAME).private_key_and_cert_chain_pem.write_to_path(str(pem))
    ca.cert_pem.write_to_path(str(ca_pem))
    server = make_server()
    names = {NAME: "127.0.0.1"}
    async with serve_tcp(server, certfile=pem) as direct, running_proxy(names) as (proxy, at):
        clean_env.setenv("HTTPS_PROXY", at)
        url = direct.replace("localhost", NAME)
        with anyio.fail_after(20):
            async with XnatClient.from_settings(settings(url, ca_bundle=ca_pem)) as xnat:
                snapshot = await xnat.project_snapshot("DEMO")
    assert len(snapshot.sessions) == 5
    port = url.rsplit(":", 1)[-1]
    assert set(proxy.seen) == {("CONNECT", f"{NAME}:{port}")}
    assert len(server.requests) >= 4  # login and three listings, inside the tunnel


async def test_no_proxy_sends_the_named_host_direct(clean_env: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY set and NO_PROXY naming the XNAT host: requests go direct."""
    server = make_server()
    async with serve_tcp(server) as url, running_proxy({}) as (proxy, at):
        clean_env.setenv("HTTP_PROXY", at)
        clean_env.setenv("NO_PROXY", "localhost,127.0.0.1")
        async with XnatClient.from_settings(settings(url)) as xnat:
            projects = await xnat.list_projects()
    assert [p.id for p in projects] == ["DEMO"]
    assert proxy.seen == []


async def test_the_proxy_setting_wins_over_the_environment(
    clean_env: pytest.MonkeyPatch,
) -> None:
    """`proxy` set explicitly is used although the environment names none."""
    server = make_server()
    async with serve_tcp(server) as direct, running_proxy({NAME: "127.0.0.1"}) as (proxy, at):
        url = direct.replace("127.0.0.1", NAME)
        async with XnatClient.from_settings(settings(url, proxy=at)) as xnat:
            projects = await xnat.list_projects()
    assert [p.id for p in projects] == ["DEMO"]
    assert [m for m, _ in proxy.seen] == ["POST", "GET", "DELETE"]


async def test_an_empty_proxy_setting_ignores_the_environment(
    clean_env: pytest.MonkeyPatch,
) -> None:
    """`proxy: ""` goes direct even with HTTP_PROXY set."""
    server = make_server()
    async with serve_tcp(server) as url, running_proxy({}) as (proxy, at):
        clean_env.setenv("HTTP_PROXY", at)
        async with XnatClient.from_settings(settings(url, proxy="")) as xnat:
            projects = await xnat.list_projects()
    assert [p.id for p in projects] == ["DEMO"]
    assert proxy.seen == []


def test_a_proxy_that_is_not_http_is_refused() -> None:
    """A socks:// proxy (not supported) is a settings error that names the scheme."""
    with pytest.raises(ValueError, match="socks5"):
        settings("https://xnat.example.org", proxy="socks5://127.0.0.1:1080")
