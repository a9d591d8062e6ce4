"""Assessor writes: one PUT creates (201) or merges (200), values stored XML-escaped."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from xnat_client.sandbox import StoredSession, XnatServer, generate_project

pytestmark = pytest.mark.anyio


@pytest.fixture
def server() -> XnatServer:
    server = XnatServer()
    generate_project(server, "P1", sessions=2, assessors_per_session=0, seed=1)
    return server


@pytest.fixture
def session(server: XnatServer) -> StoredSession:
    return next(server.store.sessions_of("P1"))


@pytest.fixture
async def client(server: XnatServer) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://xnat", auth=("admin", "admin")
    ) as c:
        yield c


async def test_put_creates_then_merges(client: httpx.AsyncClient, session: StoredSession) -> None:
    """First PUT answers 201 with the new ID; a second answers 200, same ID, fields merged."""
    url = f"/data/projects/P1/subjects/{session.subject_id}/experiments/{session.id}/assessors/A1"
    first = await client.put(
        url,
        params={
            "xsiType": "proc:genProcData",
            "proc:genProcData/proctype": "demo_v1",
            "proc:genProcData/procstatus": "NEED_INPUTS",
        },
    )
    second = await client.put(
        f"/data/experiments/{session.id}/assessors/A1",
        params={"xsiType": "proc:genprocdata", "proc:genprocdata/procstatus": "COMPLETE"},
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.text == second.text
    stored = session.assessors[first.text]
    assert (stored.label, stored.xsi_type) == ("A1", "proc:genProcData")
    assert stored.fields["proctype"] == "demo_v1"
    assert stored.fields["procstatus"] == "COMPLETE"


async def test_values_are_stored_xml_escaped(
    client: httpx.AsyncClient, session: StoredSession
) -> None:
    """JSON written through a query parameter comes back as entities, undone by html.unescape."""
    inputs = {"t1": "/data/x", "note": "a & b <c> 'd'"}
    url = f"/data/experiments/{session.id}/assessors/A2"
    params = {"xsiType": "proc:genProcData", "proc:genProcData/inputs": json.dumps(inputs)}
    created = await client.put(url, params=params)
    listing = await client.get(
        "/data/experiments",
        params={
            "format": "json",
            "project": "P1",
            "xsiType": "proc:genProcData",
            "columns": "ID,proc:genprocdata/inputs",
        },
    )
    row = next(r for r in listing.json()["ResultSet"]["Result"] if r["ID"] == created.text)
    raw = row["proc:genprocdata/inputs"]
    assert "&quot;" in raw
    assert "&amp;" in raw
    assert "&lt;" in raw
    assert "&apos;" in raw
    assert json.loads(html.unescape(raw)) == inputs


async def test_put_by_id_with_given_id(client: httpx.AsyncClient, session: StoredSession) -> None:
    """dax sends its own ID: it is used, and later PUTs by that ID update the same assessor."""
    url = f"/data/experiments/{session.id}/assessors/LBL"
    params = {"xsiType": "proc:genprocdata", "ID": "my-uuid-1", "label": "LBL"}
    created = await client.put(url, params=params)
    updated = await client.put(
        f"/data/experiments/{session.id}/assessors/my-uuid-1",
        params={"proc:genProcData/validation/status": "Passed"},
    )
    assert (created.status_code, created.text) == (201, "my-uuid-1")
    assert (updated.status_code, updated.text) == (200, "my-uuid-1")
    assert session.assessors["my-uuid-1"].fields["validation/status"] == "Passed"


async def test_invalid_id_is_417_and_wrong_type_is_422(
    client: httpx.AsyncClient, session: StoredSession
) -> None:
    """IDs outside [A-Za-z0-9_-] are refused (417); a non-assessor type is refused (422)."""
    url = f"/data/experiments/{session.id}/assessors/X"
    bad_id = await client.put(url, params={"xsiType": "proc:genProcData", "ID": "a b"})
    bad_type = await client.put(url, params={"xsiType": "xnat:mrSessionData"})
    assert (bad_id.status_code, bad_type.status_code) == (417, 422)
    assert session.assessors == {}


async def test_put_below_missing_session_is_404(client: httpx.AsyncClient) -> None:
    """An assessor PUT below an unknown session answers 404."""
    response = await client.put(
        "/data/experiments/XNAT_E99999/assessors/A", params={"xsiType": "proc:genProcData"}
    )
    assert response.status_code == 404


async def test_delete_assessor(client: httpx.AsyncClient, session: StoredSession) -> None:
    """DELETE ...?removeFiles=true removes the assessor; deleting it again is 404."""
    created = await client.put(
        f"/data/experiments/{session.id}/assessors/GONE", params={"xsiType": "proc:genProcData"}
    )
    url = f"/data/experiments/{session.id}/assessors/{created.text}?removeFiles=true"
    first, second = await client.delete(url), await client.delete(url)
    assert (first.status_code, second.status_code) == (200, 404)
    assert created.text not in session.assessors


async def test_assessor_item_json_has_fields(
    client: httpx.AsyncClient, session: StoredSession
) -> None:
    """GET /data/experiments/{assessor}?format=json shows proc fields in data_fields."""
    created = await client.put(
        f"/data/experiments/{session.id}/assessors/J",
        params={"xsiType": "proc:genProcData", "proc:genProcData/procstatus": "JOB_RUNNING"},
    )
    item = (await client.get(f"/data/experiments/{created.text}?format=json")).json()["items"][0]
    assert item["meta"]["xsi:type"] == "proc:genProcData"
    assert item["data_fields"]["procstatus"] == "JOB_RUNNING"
    assert item["data_fields"]["imageSession_ID"] == session.id


async def test_subject_session_and_scan_puts(client: httpx.AsyncClient, server: XnatServer) -> None:
    """PUT creates subjects and sessions (201, ID body) and scans (200, empty body)."""
    subject = await client.put("/data/projects/P1/subjects/NEWSUBJ")
    session = await client.put(
        "/data/projects/P1/subjects/NEWSUBJ/experiments/NEWSESS",
        params={"xsiType": "xnat:mrSessionData"},
    )
    scan = await client.put(
        f"/data/experiments/{session.text}/scans/7",
        params={"xsiType": "xnat:mrScanData", "xnat:mrScanData/type": "T2w"},
    )
    assert (subject.status_code, session.status_code, scan.status_code) == (201, 201, 200)
    stored = server.store.experiments[session.text]
    assert isinstance(stored, StoredSession)
    assert stored.subject_id == subject.text
    assert stored.scans["7"].type == "T2w"
