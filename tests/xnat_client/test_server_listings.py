"""ResultSet listings: envelope, column naming, auto-added columns, joins, filters, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio

SESSION_COLUMNS = (
    "ID,label,project,subject_ID,subject_label,date,xsiType,last_modified,"
    "xnat:imagescandata/id,xnat:imagescandata/type,xnat:imagescandata/series_description,"
    "xnat:imagescandata/quality,xnat:imagescandata/note,xnat:imagescandata/frames,"
    "xnat:imagescandata/file/label,xnat:imagescandata/file/format,"
    "xnat:imagescandata/file/file_count,xnat:imagescandata/file/file_size,"
    "xnat:imagescandata/file/xnat_abstractresource_id"
)
ASSESSOR_COLUMNS = (
    "ID,label,project,session_ID,session_label,last_modified,"
    "proc:genprocdata/proctype,proc:genprocdata/procversion,proc:genprocdata/procstatus,"
    "proc:genprocdata/validation/status,proc:genprocdata/note,proc:genprocdata/inputs,"
    "proc:genprocdata/jobid,proc:genprocdata/jobnode,proc:genprocdata/jobstartdate,"
    "proc:genprocdata/memused,proc:genprocdata/walltimeused,proc:genprocdata/out/file/label"
)


@pytest.fixture
def server() -> XnatServer:
    server = XnatServer()
    generate_project(server, "DEMO", sessions=6, seed=7)
    return server


@pytest.fixture
async def client(server: XnatServer) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://xnat", auth=("admin", "admin")
    ) as c:
        yield c


async def _result(client: httpx.AsyncClient, url: str) -> tuple[list[dict[str, str]], Any]:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    result_set = response.json()["ResultSet"]
    return result_set["Result"], result_set


async def test_snapshot_session_query_one_row_per_scan_resource(
    client: httpx.AsyncClient, server: XnatServer
) -> None:
    """The wire-contract session query answers one row per session x scan x resource."""
    url = "/data/experiments?format=json&project=DEMO&xsiType=xnat:imageSessionData"
    rows, result_set = await _result(client, f"{url}&columns={SESSION_COLUMNS}")
    expected = sum(
        len(scan.resources) for s in server.store.sessions_of("DEMO") for scan in s.scans.values()
    )
    assert len(rows) == expected
    assert result_set["totalRecords"] == str(expected)
    wanted = [*SESSION_COLUMNS.split(","), "URI"]
    assert all(sorted(row) == sorted(wanted) for row in rows)
    assert all(isinstance(v, str) for row in rows for v in row.values())
    assert {row["xsiType"] for row in rows} == {"xnat:mrSessionData"}
    first = server.store.experiments[rows[0]["ID"]]
    assert rows[0]["URI"] == f"/data/experiments/{first.id}"
    assert rows[0]["subject_label"] == server.store.subjects[first.subject_id].label


async def test_session_without_scans_keeps_one_row(
    client: httpx.AsyncClient, server: XnatServer
) -> None:
    """LEFT JOIN: a session with no scans still has a row, with empty scan columns."""
    subject = next(iter(server.store.projects["DEMO"].subjects.values()))
    empty = server.store.add_session(subject, "EMPTY_MR")
    url = "/data/experiments?format=json&project=DEMO&xsiType=xnat:imageSessionData"
    rows, _ = await _result(client, f"{url}&columns={SESSION_COLUMNS}&label=EMPTY_MR")
    assert [
        (r["ID"], r["xnat:imagescandata/id"], r["xnat:imagescandata/file/label"]) for r in rows
    ] == [(empty.id, "", "")]


async def test_assessor_query_headers_and_filter(
    client: httpx.AsyncClient, server: XnatServer
) -> None:
    """Assessor query: shortcut headers kept, xpaths lower-cased, `session_label=` filters."""
    session = next(server.store.sessions_of("DEMO"))
    url = "/data/experiments?format=json&project=DEMO&xsiType=proc:genProcData"
    rows, _ = await _result(
        client, f"{url}&columns={ASSESSOR_COLUMNS}&session_label={session.label}"
    )
    expected = {a.id for a in session.assessors.values()}
    assert {r["ID"] for r in rows} == expected
    assert all(r["session_ID"] == session.id for r in rows)
    assert "proc:genprocdata/procstatus" in rows[0]
    assert "xsiType" not in rows[0]  # proc:genProcData is secured: nothing auto-added


async def test_completed_assessors_join_their_output_resources(
    client: httpx.AsyncClient, server: XnatServer
) -> None:
    """An assessor with two output resources answers two rows, one per resource label."""
    done = next(a for a in server.store.assessors_of("DEMO") if a.out)
    url = f"/data/experiments?format=json&project=DEMO&xsiType=proc:genprocdata&ID={done.id}"
    rows, _ = await _result(client, f"{url}&columns={ASSESSOR_COLUMNS}")
    assert sorted(r["proc:genprocdata/out/file/label"] for r in rows) == sorted(done.out)


async def test_xpath_headers_map_to_shortcuts_or_lower_case(client: httpx.AsyncClient) -> None:
    """dax's xpaths: imagesessiondata/id -> session_ID; subject_id and meta xpaths lower-cased."""
    columns = (
        "ID,xnat:imagesessiondata/subject_id,xnat:imagesessiondata/id,"
        "xnat:imagesessiondata/label,proc:genProcData/procstatus"
    )
    url = f"/data/experiments?format=json&project=DEMO&xsiType=proc:genProcData&columns={columns}"
    rows, _ = await _result(client, url)
    assert sorted(rows[0]) == sorted(
        [
            "ID",
            "xnat:imagesessiondata/subject_id",
            "session_ID",
            "session_label",
            "proc:genprocdata/procstatus",
            "URI",
        ]
    )


async def test_unsecured_root_auto_adds_xsitype_and_project(client: httpx.AsyncClient) -> None:
    """On xnat:imageSessionData, xsiType and project come back without being asked."""
    url = "/data/experiments?format=json&project=DEMO&xsiType=xnat:imageSessionData&columns=ID"
    rows, _ = await _result(client, url)
    assert sorted(rows[0]) == ["ID", "URI", "project", "xsiType"]


async def test_filters_or_values_and_wildcards(
    client: httpx.AsyncClient, server: XnatServer
) -> None:
    """Comma-separated filter values are OR'ed and `*` is a wildcard."""
    labels = [s.label for s in server.store.sessions_of("DEMO")]
    url = "/data/projects/DEMO/experiments?format=json&columns=ID,label"
    both, _ = await _result(client, f"{url}&label={labels[0]},{labels[1]}")
    starred, _ = await _result(client, f"{url}&label={labels[0][:-1]}*")
    assert sorted(r["label"] for r in both) == sorted(labels[:2])
    assert labels[0] in {r["label"] for r in starred}
    assert all(r["label"].startswith(labels[0][:-1]) for r in starred)


async def test_default_columns_of_project_experiments(client: httpx.AsyncClient) -> None:
    """Project experiments default to ID, project, date, xsiType, label, insert_date, URI,
    after the root's key `xnat:subjectassessordata/id` (ProjSubExptList)."""
    rows, _ = await _result(client, "/data/projects/DEMO/experiments?format=json")
    expected = ["xnat:subjectassessordata/id", "ID", "project", "date", "xsiType", "label"]
    assert sorted(rows[0]) == sorted([*expected, "insert_date", "URI"])
    assert rows[0]["xnat:subjectassessordata/id"] == rows[0]["ID"]


async def test_csv_has_header_even_when_empty(client: httpx.AsyncClient) -> None:
    """CSV listings always start with the header row, as pyxnat and dax require."""
    response = await client.get(
        "/data/projects/DEMO/subjects?format=csv&columns=ID,label&label=none"
    )
    assert response.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(response.text))) == [["ID", "label", "URI"]]


async def test_csv_rows_follow_requested_column_order(
    client: httpx.AsyncClient, server: XnatServer
) -> None:
    """CSV columns come in the requested order, URI last, one line per subject."""
    response = await client.get("/data/projects/DEMO/subjects?format=csv&columns=label,ID")
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["label", "ID", "URI"]
    assert len(table) - 1 == len(server.store.projects["DEMO"].subjects)


async def test_scans_and_resources_listings(client: httpx.AsyncClient, server: XnatServer) -> None:
    """Scan listings have ScanList's defaults; resources have fixed columns and no URI."""
    session = next(server.store.sessions_of("DEMO"))
    scans, _ = await _result(client, f"/data/experiments/{session.id}/scans?format=json")
    assert [r["ID"] for r in scans] == list(session.scans)
    assert "xnat_imagescandata_id" in scans[0]
    url = f"/data/experiments/{session.id}/scans/1/resources?format=json&columns=ID"
    resources, result_set = await _result(client, url)
    assert [r["label"] for r in resources] == ["DICOM", "NIFTI"]
    assert "URI" not in resources[0]
    assert result_set["title"] == "Resources"


async def test_rest_and_archive_spellings_are_the_same_listing(client: httpx.AsyncClient) -> None:
    """/REST/... and /data/archive/... answer exactly as /data/... does."""
    bodies = [
        (await client.get(f"{prefix}/projects/DEMO/subjects?format=json&columns=ID")).json()
        for prefix in ("/data", "/REST", "/data/archive", "/REST/archive")
    ]
    assert bodies[1:] == bodies[:1] * 3


async def test_paging_omits_total_records(client: httpx.AsyncClient) -> None:
    """limit/offset page the rows and drop totalRecords, as XNAT does."""
    rows, result_set = await _result(
        client, "/data/projects/DEMO/subjects?format=json&limit=2&offset=1"
    )
    assert len(rows) == 2
    assert "totalRecords" not in result_set


async def test_missing_objects_are_404_status_pages(client: httpx.AsyncClient) -> None:
    """Unknown projects, sessions and scans answer Restlet 404 pages."""
    for url in (
        "/data/projects/NOPE/subjects?format=json",
        "/data/experiments/XNAT_E99999?format=json",
        "/data/experiments/XNAT_E00001/scans/99?format=json",
    ):
        response = await client.get(url)
        assert response.status_code == 404, url
        assert response.text.startswith("<html>")


async def test_session_item_json_shape(client: httpx.AsyncClient, server: XnatServer) -> None:
    """GET a session ?format=json gives items/data_fields/children with scans and assessors."""
    session = next(server.store.sessions_of("DEMO"))
    body = (await client.get(f"/data/experiments/{session.id}?format=json")).json()
    item = body["items"][0]
    assert item["meta"]["xsi:type"] == "xnat:mrSessionData"
    assert item["data_fields"]["ID"] == session.id
    fields = {child["field"]: child["items"] for child in item["children"]}
    assert len(fields["scans/scan"]) == len(session.scans)
    assert {a["data_fields"]["ID"] for a in fields["assessors/assessor"]} == set(session.assessors)


async def test_search_elements_lists_genprocdata(client: httpx.AsyncClient) -> None:
    """/data/search/elements names proc:genProcData in JSON and CSV."""
    rows, _ = await _result(client, "/data/search/elements?format=json")
    as_csv = await client.get("/data/search/elements?format=csv")
    assert "proc:genProcData" in {r["ELEMENT_NAME"] for r in rows}
    assert as_csv.text.startswith("ELEMENT_NAME,SINGULAR,PLURAL,SECURED,COUNT\n")


async def test_exact_label_lookups_answer_what_the_filter_would(
    client: httpx.AsyncClient, server: XnatServer
) -> None:
    """A label looked up through the index: sessions only for session roots, none if unknown."""
    session = next(s for s in server.store.sessions_of("DEMO") if s.assessors)
    assessor = next(iter(session.assessors.values()))
    url = "/data/experiments?format=json&project=DEMO&columns=ID,label"
    sessions = f"{url}&xsiType=xnat:imageSessionData"
    assessors = f"{url}&xsiType=proc:genProcData"
    found, _ = await _result(client, f"{sessions}&label={session.label}")
    by_assessor_label, _ = await _result(client, f"{sessions}&label={assessor.label}")
    unknown, _ = await _result(client, f"{sessions}&label=NO_SUCH_LABEL")
    of_session, _ = await _result(client, f"{assessors}&session_label={session.label}")
    any_kind, _ = await _result(client, f"{url}&xsiType=xnat:experimentData&label={assessor.label}")
    assert {r["ID"] for r in found} == {session.id}
    assert by_assessor_label == unknown == []
    assert {r["ID"] for r in of_session} == set(session.assessors)
    assert [r["ID"] for r in any_kind] == [assessor.id]
