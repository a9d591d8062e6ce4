"""
`XnatClient` on its default transport (httpx-aiohttp) against the XNAT-compatible server over
real TCP on 127.0.0.1: TLS with a private CA, pooled connections, bounded concurrency, hung
and dropped answers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest
import trustme

from xnat_client import (
    Credentials,
    ResourceRef,
    RetryPolicy,
    Timeouts,
    TlsError,
    Unavailable,
    XnatClient,
    XnatSettings,
)
from xnat_client.sandbox import XnatServer, generate_project, serve_tcp

pytestmark = pytest.mark.anyio

ADMIN = Credentials.password("admin", "admin-pw")
FAST = RetryPolicy(attempts=4, backoff_initial=0.001, backoff_max=0.002, budget=5.0)


def make_server(sessions: int = 4) -> XnatServer:
    server = XnatServer(users={"admin": "admin-pw"})
    generate_project(server, "DEMO", sessions=sessions, seed=3)
    return server


@dataclass(frozen=True)
class Tls:
    server_pem: Path  # key + certificate chain for `localhost`
    ca_pem: Path  # the private CA that signed it


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    """A private CA and a DNS-name certificate for `localhost`, as PEM files."""
    ca = trustme.CA()
    issued = ca.issue_cert("localhost")
    files = Tls(tmp_path / "server.pem", tmp_path / "ca.pem")
    issued.private_key_and_cert_chain_pem.write_to_path(str(files.server_pem))
    ca.cert_pem.write_to_path(str(files.ca_pem))
    return files


@asynccontextmanager
async def tls_server(tls: Tls) -> AsyncIterator[tuple[XnatServer, str]]:
    server = make_server()
    async with serve_tcp(server, certfile=tls.server_pem) as url:
        yield server, url


async def test_tls_with_the_ca_bundle_reads_a_snapshot(tls: Tls) -> None:
    """Over TLS with `ca_bundle` set to the private CA, the snapshot is read in 3 requests."""
    async with tls_server(tls) as (server, url):
        settings = XnatSettings(url=url, user="admin", password="admin-pw", ca_bundle=tls.ca_pem)
        async with XnatClient.from_settings(settings) as xnat:
            snapshot = await xnat.project_snapshot("DEMO")
    assert url.startswith("https://localhost:")
    assert (len(snapshot.sessions), snapshot.requests) == (4, 3)
    assert [r.path for r in server.requests][:1] == ["/data/JSESSION"]


async def test_tls_without_the_ca_is_a_clear_certificate_error(tls: Tls) -> None:
    """Without the CA, the handshake fails once: TlsError naming the fix, nothing retried."""
    async with tls_server(tls) as (server, url), XnatClient(url, credentials=ADMIN) as xnat:
        with anyio.fail_after(10), pytest.raises(TlsError) as caught:
            await xnat.list_projects()
        sent = xnat.requests_sent
    message = str(caught.value)
    assert "certificate of localhost" in message
    assert "ca_bundle" in message
    assert "admin-pw" not in message
    assert (sent, server.requests) == (1, [])


async def test_ssl_cert_file_in_the_environment_is_honoured(
    tls: Tls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no ca_bundle, the standard SSL_CERT_FILE variable names the trusted CA."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_pem))
    async with tls_server(tls) as (_server, url), XnatClient(url, credentials=ADMIN) as xnat:
        projects = await xnat.list_projects()
    assert [p.id for p in projects] == ["DEMO"]


async def test_verify_false_works_and_warns(tls: Tls, caplog: pytest.LogCaptureFixture) -> None:
    """verify=False reaches a server whose certificate is not trusted, with a warning."""
    caplog.set_level(logging.WARNING, logger="xnat_client")
    async with tls_server(tls) as (_server, url):
        settings = XnatSettings(url=url, user="admin", password="admin-pw", verify=False)
        async with XnatClient.from_settings(settings) as xnat:
            snapshot = await xnat.project_snapshot("DEMO")
    assert len(snapshot.sessions) == 4
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("not checked (verify=false)" in w for w in warnings)


async def test_plain_http_to_a_tls_port_is_a_tls_error_or_unavailable(tls: Tls) -> None:
    """An https URL on a plain-HTTP port fails as a TLS error, without hanging."""
    server = make_server()
    async with serve_tcp(server) as url:
        https = url.replace("http://", "https://")
        async with XnatClient(https, credentials=ADMIN, retry=FAST) as xnat:
            with anyio.fail_after(10), pytest.raises(TlsError):
                await xnat.list_projects()


async def test_connections_are_pooled_up_to_the_concurrency() -> None:
    """Forty requests, three at a time: at most three connections, each used many times."""
    server = make_server()
    async with serve_tcp(server) as url, XnatClient(url, credentials=ADMIN, concurrency=3) as x:
        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                for _ in range(40):
                    tg.start_soon(x.list_projects)
    peers = [r.client for r in server.requests if r.path == "/data/projects"]
    assert len(peers) == 40
    assert 1 <= len(set(peers)) <= 3


async def test_an_open_download_holds_its_place_until_closed() -> None:
    """With concurrency 1, a second request waits while a streamed download is open."""
    server = make_server()
    ref = ResourceRef.session("XNAT_E00001", "OUT")
    async with serve_tcp(server) as url, XnatClient(url, credentials=ADMIN, concurrency=1) as x:
        await x.create_resource(ref)
        await x.upload_file(ref, "big.bin", b"z" * 300_000)
        got: list[bytes] = []
        done: list[str] = []
        started, release = anyio.Event(), anyio.Event()

        async def sink(chunk: bytes) -> None:
            got.append(chunk)
            started.set()
            await release.wait()  # the download stays open until the test lets it go

        async def download() -> None:
            await x.download_file(ref, "big.bin", sink)
            done.append("download")

        async def listing() -> None:
            await x.list_projects()
            done.append("projects")

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(download)
                await started.wait()
                tg.start_soon(listing)
                await anyio.wait_all_tasks_blocked()
                waiting = list(done)
                release.set()
    assert waiting == []
    assert done == ["download", "projects"]
    assert b"".join(got) == b"z" * 300_000


async def test_a_large_upload_and_download_round_trip() -> None:
    """Five MB go up from a file and come back intact, streamed both ways."""
    server = make_server()
    ref = ResourceRef.session("XNAT_E00001", "OUT")
    payload = bytes(range(256)) * 20_000
    async with serve_tcp(server) as url, XnatClient(url, credentials=ADMIN) as x:
        await x.create_resource(ref)
        entry = await x.upload_file(ref, "data.bin", payload)
        chunks: list[bytes] = []

        async def sink(chunk: bytes) -> None:
            chunks.append(chunk)

        size = await x.download_file(ref, "data.bin", sink)
    assert (entry.size, size) == (len(payload), len(payload))
    assert b"".join(chunks) == payload


async def test_a_hung_request_past_the_read_timeout_is_retried() -> None:
    """An answer that hangs past the read timeout is retried, although that took the budget."""
    server = make_server()
    server.faults.hang_seconds = 3
    retry = RetryPolicy(attempts=3, backoff_initial=0.01, backoff_max=0.01, budget=0.2)
    async with (
        serve_tcp(server) as url,
        XnatClient(url, credentials=ADMIN, retry=retry, timeouts=Timeouts(read=0.5)) as xnat,
    ):
        await xnat.list_projects()
        server.faults.inject("timeout")
        with anyio.fail_after(10):
            projects = await xnat.list_projects()
    assert [p.id for p in projects] == ["DEMO"]
    faults = [r.fault for r in server.requests if r.path == "/data/projects"]
    assert sorted(faults) == ["", "", "timeout"]  # the hung one is logged when it gives up


async def test_a_dropped_answer_is_retried_over_tcp() -> None:
    """A connection cut mid-answer is an Unavailable attempt, retried on a new connection."""
    server = make_server()
    async with serve_tcp(server) as url, XnatClient(url, credentials=ADMIN, retry=FAST) as xnat:
        await xnat.list_projects()
        server.faults.inject("drop")
        with anyio.fail_after(10):
            projects = await xnat.list_projects()
    assert [p.id for p in projects] == ["DEMO"]


async def test_nothing_listening_is_unavailable_naming_the_address() -> None:
    """A refused connection is retried, then Unavailable naming host and port."""
    async with serve_tcp(make_server()) as url:
        pass  # the port is free again once the server is gone
    async with XnatClient(url, credentials=ADMIN, retry=FAST) as xnat:
        with anyio.fail_after(10), pytest.raises(Unavailable) as caught:
            await xnat.list_projects()
    assert url.rsplit(":", 1)[-1] in str(caught.value)
    assert xnat.requests_sent == FAST.attempts


async def test_a_login_page_after_the_session_expired_is_a_relogin_over_tcp() -> None:
    """A server that shows its login page (200) to a lost session: one re-login, the data."""
    server = make_server()
    server.login_page = True
    async with serve_tcp(server) as url, XnatClient(url, credentials=ADMIN) as xnat:
        await xnat.list_projects()
        server.sessions.expire_all()
        snapshot = await xnat.project_snapshot("DEMO")
    logins = [r for r in server.requests if (r.method, r.path) == ("POST", "/data/JSESSION")]
    assert len(snapshot.sessions) == 4
    assert len(logins) == 2


async def test_many_requests_meeting_an_expired_session_on_one_connection_all_finish() -> None:
    """Concurrency 1, eight requests hit a lost session together: one re-login, no deadlock."""
    server = make_server()
    async with serve_tcp(server) as url, XnatClient(url, credentials=ADMIN, concurrency=1) as x:
        await x.list_projects()
        server.sessions.expire_all()
        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                for _ in range(8):
                    tg.start_soon(x.list_projects)
    logins = [r for r in server.requests if (r.method, r.path) == ("POST", "/data/JSESSION")]
    assert len(logins) == 2
