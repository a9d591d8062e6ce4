"""The search service: `POST /data/search` with an `xdat:bundle` (SearchResource)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import httpx
import pytest

from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio


def bundle(root: str, fields: list[tuple[str, str]], where: str) -> str:
    """A bundle laid out as pyxnat's build_search_document writes it."""
    columns = "".join(
        f"<xdat:search_field><xdat:element_name>{element}</xdat:element_name>"
        f"<xdat:field_ID>{field}</xdat:field_ID><xdat:sequence>{n}</xdat:sequence>"
        f"<xdat:type>string</xdat:type><xdat:header>{element}/{field}</xdat:header>"
        "</xdat:search_field>"
        for n, (element, field) in enumerate(fields)
    )
    return (
        '<xdat:bundle xmlns:xdat="http://nrg.wustl.edu/security" ID="@x" '
        'brief-description="" allow-diff-columns="0" secure="false">'
        f"<xdat:root_element_name>{root}</xdat:root_element_name>{columns}"
        f'<xdat:search_where method="AND">{where}</xdat:search_where></xdat:bundle>'
    )


def criteria(field: str, op: str, value: str) -> str:
    return (
        '<xdat:criteria override_value_formatting="0">'
        f"<xdat:schema_field>{field}</xdat:schema_field>"
        f"<xdat:comparison_type>{op}</xdat:comparison_type><xdat:value>{value}</xdat:value>"
        "</xdat:criteria>"
    )


@pytest.fixture
def server() -> XnatServer:
    server = XnatServer()
    generate_project(server, "DEMO", sessions=4, seed=5)
    generate_project(server, "OTHER", sessions=2, seed=6)
    return server


@pytest.fixture
async def client(server: XnatServer) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://xnat", auth=("admin", "admin")
    ) as c:
        yield c


async def _search(client: httpx.AsyncClient, body: str) -> list[dict[str, str]]:
    response = await client.post("/data/search?format=csv", content=body)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_display_fields_and_a_project_criterion(
    client: httpx.AsyncClient, server: XnatServer
) -> None:
    """Display-field IDs come back as lower-case keys; `PROJECT =` keeps one project."""
    fields = [("xnat:mrSessionData", "SESSION_ID"), ("xnat:mrSessionData", "LABEL")]
    where = criteria("xnat:mrSessionData/PROJECT", "=", "DEMO")
    rows = await _search(client, bundle("xnat:mrSessionData", fields, where))
    demo = server.store.projects["DEMO"].sessions.values()
    assert sorted((r["session_id"], r["label"]) for r in rows) == sorted(
        (s.id, s.label) for s in demo
    )


async def test_xpaths_name_the_same_fields(client: httpx.AsyncClient, server: XnatServer) -> None:
    """xnatpy's xpaths (`ID`, `project`, `subject_ID`) are the session's display fields."""
    fields = [("xnat:mrSessionData", f"xnat:mrSessionData/{x}") for x in ("ID", "project")]
    fields.append(("xnat:mrSessionData", "xnat:mrSessionData/subject_ID"))
    where = criteria("xnat:mrSessionData/project", "=", "OTHER")
    rows = await _search(client, bundle("xnat:mrSessionData", fields, where))
    other = server.store.projects["OTHER"].sessions.values()
    assert sorted((r["session_id"], r["project"], r["subject_id"]) for r in rows) == sorted(
        (s.id, "OTHER", s.subject_id) for s in other
    )


async def test_like_or_child_sets_and_scan_joins(
    client: httpx.AsyncClient, server: XnatServer
) -> None:
    """A nested OR of LIKE criteria, and a scan field on a session root: one row per scan."""
    fields = [("xnat:mrSessionData", "LABEL"), ("xnat:mrScanData", "TYPE")]
    where = (
        '<xdat:child_set method="OR">'
        + criteria("xnat:mrScanData/TYPE", "LIKE", "DW%")
        + criteria("xnat:mrScanData/TYPE", "=", "FLAIR")
        + "</xdat:child_set>"
    )
    rows = await _search(client, bundle("xnat:mrSessionData", fields, where))
    expected = sorted(
        (s.label, sc.type)
        for s in server.store.sessions_of(None)
        for sc in s.scans.values()
        if sc.type in ("DWI", "FLAIR")
    )
    assert sorted((r["label"], r["xnat_mrscandata_type"]) for r in rows) == expected


async def test_json_result_names_its_columns_and_root(client: httpx.AsyncClient) -> None:
    """JSON answers carry `Columns` (key, element_name, id) and `rootElementName`."""
    body = bundle("proc:genProcData", [("proc:genProcData", "PROCSTATUS")], "")
    result = (await client.post("/data/search?format=json", content=body)).json()["ResultSet"]
    assert result["rootElementName"] == "proc:genProcData"
    assert result["Columns"][0]["key"] == "procstatus"
    assert result["totalRecords"] == str(len(result["Result"]))


async def test_get_is_not_allowed_and_a_non_bundle_is_422(client: httpx.AsyncClient) -> None:
    """GET /data/search is 405; a body that is not an xdat:bundle is 422."""
    assert (await client.get("/data/search")).status_code == 405
    assert (await client.post("/data/search", content="<x/>")).status_code == 422
    assert (await client.post("/data/search", content="not xml")).status_code == 422
