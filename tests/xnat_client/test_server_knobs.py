"""Server knobs: fault injection, latency, the request log, generator determinism, exports."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import anyio
import httpx
import pytest

import xnat_client.sandbox as server_pkg
from xnat_client.sandbox import (
    PROCSTATUSES,
    DroppedConnection,
    Faults,
    XnatServer,
    generate_project,
    make_tls_identity,
    serve_tcp,
)

pytestmark = pytest.mark.anyio


def _client(server: XnatServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server.app),
        base_url="http://xnat",
        auth=("admin", "admin"),
    )


async def test_injected_errors_then_recovery() -> None:
    """Queued faults answer 503 status pages in order, then the server answers normally."""
    server = XnatServer()
    server.faults.inject("error", count=2, status=503)
    async with _client(server) as client:
        codes = [(await client.get("/data/projects?format=json")).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert [r.fault for r in server.requests] == ["error", "error", ""]


async def test_random_error_rate_is_seeded() -> None:
    """The same seed and rate give the same sequence of failures."""

    async def run(seed: int) -> list[int]:
        server = XnatServer()
        server.faults.reseed(seed)
        server.faults.error_rate = 0.5
        async with _client(server) as client:
            return [(await client.get("/data/auth")).status_code for _ in range(20)]

    first, second = await run(4), await run(4)
    assert first == second
    assert {c for c in first if c != 200} <= {500, 502, 503}
    assert 200 in first
    assert any(c != 200 for c in first)


async def test_drop_raises_a_transport_error_in_process() -> None:
    """A dropped connection reaches an httpx client as RemoteProtocolError."""
    server = XnatServer()
    server.faults.inject("drop")
    async with _client(server) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/data/auth")
    assert issubclass(DroppedConnection, httpx.RemoteProtocolError)


async def test_drop_over_tcp_cuts_the_connection() -> None:
    """Over real TCP a dropped connection is a transport error, and the next request works."""
    server = XnatServer()
    server.faults.inject("drop")
    async with serve_tcp(server) as url, httpx.AsyncClient(base_url=url) as client:
        with anyio.fail_after(10):
            with pytest.raises(httpx.TransportError):
                await client.get("/data/auth", auth=("admin", "admin"))
            after = await client.get("/data/auth", auth=("admin", "admin"))
    assert after.status_code == 200


async def test_timeout_fault_hangs_until_the_client_gives_up() -> None:
    """A timeout fault holds the answer; the client's own timeout ends the wait."""
    server = XnatServer()
    server.faults.inject("timeout")
    async with serve_tcp(server) as url, httpx.AsyncClient(base_url=url, timeout=0.5) as client:
        with anyio.fail_after(10), pytest.raises(httpx.ReadTimeout):
            await client.get("/data/auth", auth=("admin", "admin"))


async def test_latency_delays_each_answer() -> None:
    """With latency set, a request takes at least that long (a lower bound, not a benchmark)."""
    server = XnatServer(latency=0.05)
    async with _client(server) as client:
        started = time.monotonic()
        await client.get("/data/auth")
        assert time.monotonic() - started >= 0.05


async def test_request_log_records_method_path_status() -> None:
    """Every request is counted with its method, path, query and status."""
    server = XnatServer()
    async with _client(server) as client:
        await client.get("/data/projects?format=json")
        await client.get("/data/experiments/NOPE?format=json")
    assert [(r.method, r.path, r.query, r.status) for r in server.requests] == [
        ("GET", "/data/projects", "format=json", 200),
        ("GET", "/data/experiments/NOPE", "format=json", 404),
    ]


def _fingerprint(server: XnatServer) -> list[tuple[str, ...]]:
    store = server.store
    rows: list[tuple[str, ...]] = []
    for session in store.sessions_of("DEMO"):
        rows.append((session.id, session.label, session.date, session.subject_id))
        rows.extend((scan.id, scan.type, scan.quality) for scan in session.scans.values())
        rows.extend((a.id, a.label, a.fields["procstatus"]) for a in session.assessors.values())
    return rows


def test_generator_is_deterministic_per_seed() -> None:
    """The same seed builds the same project; another seed builds a different one."""
    a, b, c = XnatServer(), XnatServer(), XnatServer()
    for server, seed in ((a, 5), (b, 5), (c, 6)):
        generate_project(server, "DEMO", sessions=12, seed=seed)
    assert _fingerprint(a) == _fingerprint(b)
    assert _fingerprint(a) != _fingerprint(c)


def test_generator_mix() -> None:
    """Every session has a T1w and 6 scans; DWI NIFTI holds bval/bvec; all procstatuses occur."""
    server = XnatServer()
    generate_project(server, "DEMO", subjects=3, sessions=9, seed=2)
    sessions = list(server.store.sessions_of("DEMO"))
    assert len(sessions) == 9
    assert len(server.store.projects["DEMO"].subjects) == 3
    assert all(s.scans["1"].type == "T1w" and len(s.scans) == 6 for s in sessions)
    dwi = [sc for s in sessions for sc in s.scans.values() if sc.type == "DWI"]
    assert dwi
    assert all({"DWI.bval", "DWI.bvec"} <= set(sc.resources["NIFTI"].files) for sc in dwi)
    statuses = {a.fields["procstatus"] for a in server.store.assessors_of("DEMO")}
    assert statuses == set(PROCSTATUSES)


def test_generator_takes_scan_types_and_counts() -> None:
    """`scan_types` and `scans_per_session` shape every session: the first type in each."""
    server = XnatServer()
    generate_project(
        server, "DEMO", sessions=5, scans_per_session=2, scan_types=["T1w", "ASL", "PET_AC"], seed=1
    )
    sessions = list(server.store.sessions_of("DEMO"))
    assert all(len(s.scans) == 2 and s.scans["1"].type == "T1w" for s in sessions)
    assert {sc.type for s in sessions for sc in s.scans.values()} <= {"T1w", "ASL", "PET_AC"}
    asl = [sc for s in sessions for sc in s.scans.values() if sc.type == "ASL"]
    assert all(sc.series_description == "ASL" for sc in asl)


async def test_tls_serves_https_that_verifies_against_the_written_ca(tmp_path: Path) -> None:
    """`serve_tcp(ssl=make_tls_identity(...).context)` serves https; a client trusting the CA
    file verifies it, a client with the default trust store refuses it."""
    tls = make_tls_identity(tmp_path)
    server = XnatServer(users={"ann": "s3cret"})
    async with serve_tcp(server, ssl=tls.context) as url:
        assert url.startswith("https://127.0.0.1:")
        async with httpx.AsyncClient(base_url=url, verify=tls.client_context()) as trusting:
            answer = await trusting.get("/data/auth", auth=("ann", "s3cret"))
        async with httpx.AsyncClient(base_url=url) as default:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await default.get("/data/auth", auth=("ann", "s3cret"))
    assert answer.text == "User 'ann' is logged in"
    assert tls.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert isinstance(tls.context, ssl.SSLContext)


async def test_paged_bulk_listing_concatenates_to_the_whole() -> None:
    """limit/offset pages of the joined session listing add up to the unpaged listing."""
    server = XnatServer()
    generate_project(server, "DEMO", sessions=7, seed=3)
    url = (
        "/data/experiments?format=json&project=DEMO&xsiType=xnat:imageSessionData"
        "&columns=ID,xnat:imagescandata/id,xnat:imagescandata/file/label"
    )
    async with _client(server) as client:
        whole = (await client.get(url)).json()["ResultSet"]["Result"]
        pages = []
        for offset in range(0, len(whole) + 25, 25):
            body = (await client.get(f"{url}&limit=25&offset={offset}")).json()["ResultSet"]
            assert "totalRecords" not in body
            pages.extend(body["Result"])
    assert len(whole) == 7 * 6 * 2
    assert pages == whole


def test_public_names_are_exported() -> None:
    """`__all__` names exactly what the package exports."""
    exported = {n for n in dir(server_pkg) if not n.startswith("_")}
    assert set(server_pkg.__all__) <= exported
    assert {"XnatServer", "generate_project", "serve_tcp"} <= set(server_pkg.__all__)


async def test_faults_given_at_construction_are_drawn() -> None:
    """`XnatServer(faults=Faults(error_rate=1.0, seed=3))` fails every request it serves."""
    server = XnatServer(faults=Faults(error_rate=1.0, error_statuses=(502,), seed=3))
    async with _client(server) as client:
        answers = [(await client.get("/data/auth")).status_code for _ in range(3)]
    assert answers == [502, 502, 502]
