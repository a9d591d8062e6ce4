"""session_changes: one listing of a project's sessions and their last_modified, kept current."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from xnat_client import Credentials, InvalidName, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio


@pytest.fixture
def server() -> XnatServer:
    server = XnatServer()
    generate_project(server, "P1", sessions=3, assessors_per_session=1, seed=2)
    return server


@pytest.fixture
async def xnat(server: XnatServer) -> AsyncIterator[XnatClient]:
    transport = httpx.ASGITransport(app=server.app)
    credentials = Credentials.password("admin", "admin")
    async with XnatClient("http://xnat", credentials=credentials, transport=transport) as client:
        yield client


async def test_one_request_lists_every_session_without_assessors(
    server: XnatServer, xnat: XnatClient
) -> None:
    """Every image session once, with subject and last_modified; assessors are not sessions."""
    await xnat.session_changes("P1")  # logs in first
    server.requests.clear()
    changes = await xnat.session_changes("P1")
    stored = sorted(s.label for s in server.store.sessions_of("P1"))
    assert stored == sorted(c.label for c in changes)
    assert all(c.last_modified and c.subject_id and c.subject_label for c in changes)
    assert [r.path for r in server.requests] == ["/data/experiments"]


async def test_a_scan_written_moves_its_session_last_modified(
    server: XnatServer, xnat: XnatClient
) -> None:
    """A PUT of a scan changes that session's last_modified and no other's."""
    before = {c.label: c.last_modified for c in await xnat.session_changes("P1")}
    session = next(server.store.sessions_of("P1"))
    session.last_modified = "2000-01-01 00:00:00.000"  # so any write is visibly later
    before[session.label] = session.last_modified
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://xnat", auth=("admin", "admin")
    ) as http:
        url = f"/data/experiments/{session.id}/scans/99"
        answer = await http.put(url, params={"xsiType": "xnat:mrScanData", "type": "T2w"})
    assert answer.status_code in (200, 201)
    after = {c.label: c.last_modified for c in await xnat.session_changes("P1")}
    changed = {label for label in after if after[label] != before[label]}
    assert changed == {session.label}


async def test_a_hostile_project_id_is_refused_before_any_request(
    server: XnatServer, xnat: XnatClient
) -> None:
    """A project ID outside [A-Za-z0-9_-] never reaches the server."""
    server.requests.clear()
    with pytest.raises(InvalidName):
        await xnat.session_changes("P1&xsiType=x")
    assert server.requests == []
