"""The workflow resource over real HTTP: XNAT's writes, entries, uniqueness, rights, listings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from xml.etree import ElementTree

import httpx
import pytest

from xnat_client.sandbox import StoredAssessor, XnatServer, generate_project, serve_tcp

pytestmark = pytest.mark.anyio

W = "wrk:workflowData/"
WRK = "{http://nrg.wustl.edu/workflow}"


@pytest.fixture
def server() -> XnatServer:
    server = XnatServer(users={"admin": "admin", "ann": "pw", "bob": "pw"})
    generate_project(server, "P1", sessions=2, assessors_per_session=1, seed=1)
    return server


@pytest.fixture
def assessors(server: XnatServer) -> list[StoredAssessor]:
    return list(server.store.assessors_of("P1"))


@pytest.fixture
async def url(server: XnatServer) -> AsyncIterator[str]:
    async with serve_tcp(server) as base:
        yield base


def _client(url: str, user: str = "admin", password: str = "admin") -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, auth=(user, password))


def _entry(
    assessor: StoredAssessor, when: str, status: str = "Queued", **more: str
) -> dict[str, str]:
    fields = {
        "ID": assessor.id,
        "pipeline_name": "fs7_v1",
        "data_type": "proc:genProcData",
        "launch_time": when,
        "status": status,
        **more,
    }
    return {W + k: v for k, v in fields.items()}


async def _put(url: str, params: dict[str, str], user: str = "admin") -> httpx.Response:
    async with _client(url, user, "admin" if user == "admin" else "pw") as c:
        return await c.put("/data/workflows", params=params)


async def test_a_put_creates_an_entry_that_reads_back_as_xml_and_json(
    url: str, assessors: list[StoredAssessor]
) -> None:
    """PUT answers 200 with no body; GET /data/workflows/{id} is XML, or items with format=json."""
    a = assessors[0]
    params = _entry(a, "2024-03-01 10:00:00.250", ExternalID="P1", jobID="77", comments='a "q"')
    put = await _put(url, params)
    async with _client(url) as c:
        xml = await c.get("/data/workflows/1")
        item = (await c.get("/data/workflows/1", params={"format": "json"})).json()
    assert (put.status_code, put.text) == (200, "")
    assert xml.headers["content-type"].startswith("text/xml")
    root = ElementTree.fromstring(xml.content)
    assert root.tag == f"{WRK}Workflow"
    assert root.attrib["ID"] == a.id
    assert root.attrib["launch_time"] == "2024-03-01T10:00:00.25"
    assert root.attrib["jobID"] == "77"
    assert root.findtext(f"{WRK}comments") == 'a "q"'
    fields = item["items"][0]["data_fields"]
    assert item["items"][0]["meta"]["xsi:type"] == "wrk:workflowData"
    assert fields["wrk_workflowData_id"] == 1
    assert fields["launch_time"] == "2024-03-01 10:00:00.25"
    assert (fields["pipeline_name"], fields["status"], fields["create_user"]) == (
        "fs7_v1",
        "Queued",
        "admin",
    )
    assert fields["comments"] == "a &quot;q&quot;"  # query values are stored escaped


async def test_the_same_pipeline_experiment_and_launch_time_update_one_entry(
    url: str, server: XnatServer, assessors: list[StoredAssessor]
) -> None:
    """A second PUT with the keys (the launch time spelt as xs:dateTime) changes the status."""
    a = assessors[0]
    await _put(url, _entry(a, "2013-05-20 13:51:25.089"))
    again = {W + "ID": a.id, W + "pipeline_name": "fs7_v1", W + "status": "Complete"}
    again[W + "launch_time"] = "2013-05-20T13:51:25.089"
    second = await _put(url, again)
    async with _client(url) as c:
        found = await c.get("/data/workflows", params={**again, "format": "json"})
    assert second.status_code == 200
    assert len(server.store.workflows) == 1
    assert found.json()["items"][0]["data_fields"]["status"] == "Complete"


async def test_an_xml_document_creates_an_entry(url: str, assessors: list[StoredAssessor]) -> None:
    """A `wrk:Workflow` body (attributes, text children) is read like the query fields."""
    a = assessors[0]
    body = (
        f'<wrk:Workflow xmlns:wrk="http://nrg.wustl.edu/workflow" ID="{a.id}" ExternalID="P1" '
        'data_type="proc:genProcData" launch_time="2014-02-13T00:50:54" '
        'pipeline_name="My_Pipeline" status="In Progress"><wrk:details>x &lt; y</wrk:details>'
        "</wrk:Workflow>"
    )
    async with _client(url) as c:
        put = await c.put("/data/workflows", content=body, headers={"content-type": "text/xml"})
        got = (await c.get("/data/workflows/1", params={"format": "json"})).json()
    fields = got["items"][0]["data_fields"]
    assert put.status_code == 200
    assert (fields["status"], fields["details"], fields["launch_time"]) == (
        "In Progress",
        "x < y",
        "2014-02-13 00:50:54.0",
    )


async def test_refusals_name_what_is_wrong(
    url: str, server: XnatServer, assessors: list[StoredAssessor]
) -> None:
    """No data_type: 400; unknown key: 404; someone else's entry: 403, but a site admin may."""
    a = assessors[0]
    missing = {k: v for k, v in _entry(a, "2024-01-01 00:00:00").items() if "data_type" not in k}
    no_type = await _put(url, missing)
    await _put(url, _entry(a, "2024-01-01 00:00:00"), user="ann")
    by_bob = await _put(url, _entry(a, "2024-01-01 00:00:00", "Failed"), user="bob")
    by_admin = await _put(url, _entry(a, "2024-01-01 00:00:00", "Complete"))
    async with _client(url) as c:
        unknown = await c.put("/data/workflows/99", params={W + "status": "Complete"})
        absent = await c.get("/data/workflows/99")
    assert no_type.status_code == 400
    assert "data_type" in no_type.text
    assert (by_bob.status_code, by_admin.status_code) == (403, 200)
    assert "not allowed to make changes to this workflow" in by_bob.text
    assert (unknown.status_code, absent.status_code) == (404, 404)
    assert server.store.workflows[1].fields["status"] == "Complete"


async def test_an_account_kept_from_writing_workflows_gets_403(
    server: XnatServer, url: str, assessors: list[StoredAssessor]
) -> None:
    """`workflow_writers` names who may write entries; the rest get XNAT's 403, nothing kept."""
    server.workflow_writers = frozenset({"admin"})
    refused = await _put(url, _entry(assessors[0], "2024-01-01 00:00:00"), user="ann")
    assert refused.status_code == 403
    assert server.store.workflows == {}


async def _listing(url: str, pipeline: str, **params: str) -> httpx.Response:
    async with _client(url) as c:
        return await c.get(f"/data/services/workflows/{pipeline}", params=params)


async def test_an_experiment_s_entries_are_listed_in_the_order_written(
    url: str, assessors: list[StoredAssessor]
) -> None:
    """display=ALL lists one experiment's entries of the pipeline, oldest first, every field."""
    a, other = assessors[0], assessors[1]
    steps = [("2024-01-01 09:00:00.1", "Queued"), ("2024-01-01 09:05:00.2", "Running")]
    steps.append(("2024-01-01 09:30:00.3", "Complete"))
    for when, status in steps:
        await _put(url, _entry(a, when, status, current_step_id="S", step_description=status))
    await _put(url, _entry(other, "2024-01-01 09:10:00", "Failed"))
    await _put(url, {**_entry(a, "2024-01-01 09:20:00"), W + "pipeline_name": "dtiqa_v1"})
    by_id = await _listing(url, "fs7_v1", experiment=a.id, display="ALL", format="json")
    by_label = await _listing(
        url, "FS7", experiment=a.label, project="P1", display="ALL", format="json"
    )
    rows = by_id.json()["ResultSet"]["Result"]
    assert [(r["launch_time"], r["status"]) for r in rows] == [
        ("2024-01-01 09:00:00.1", "Queued"),
        ("2024-01-01 09:05:00.2", "Running"),
        ("2024-01-01 09:30:00.3", "Complete"),
    ]
    assert by_label.json()["ResultSet"]["Result"] == rows
    assert by_id.json()["ResultSet"]["title"] == "All workflows"
    assert {"wrk_workflowData_id", "pipeline_name", "ID", "step_description"} <= set(rows[0])


async def test_listing_filters_and_the_latest_entry(
    url: str, assessors: list[StoredAssessor]
) -> None:
    """`status=` filters; LATEST (the default) is the newest as an item; none found is 404."""
    a = assessors[0]
    for when, status in (("2024-01-01 09:00:00", "Queued"), ("2024-01-01 10:00:00", "Failed")):
        await _put(url, _entry(a, when, status))
    queued = await _listing(url, "fs7", experiment=a.id, display="ALL", status="Queued")
    latest = await _listing(url, "fs7", experiment=a.id, format="json")
    csv = await _listing(url, "fs7", experiment=a.id, display="ALL", format="csv")
    none = await _listing(url, "freesurfer", experiment=a.id)
    no_pipeline = await _listing(url, "", experiment=a.id)
    assert [r["status"] for r in queued.json()["ResultSet"]["Result"]] == ["Queued"]
    assert latest.json()["items"][0]["data_fields"]["status"] == "Failed"
    assert csv.text.splitlines()[0].startswith("wrk_workflowData_id,data_type,ID,")
    assert len(csv.text.splitlines()) == 3
    assert (none.status_code, no_pipeline.status_code) == (404, 404)


async def test_without_an_experiment_each_experiment_s_latest_entry_is_listed(
    url: str, assessors: list[StoredAssessor]
) -> None:
    """XNAT's SQL branch: one row per experiment (its latest entry), with its label."""
    a, b = assessors[0], assessors[1]
    await _put(url, _entry(a, "2024-01-01 09:00:00", ExternalID="P1"))
    await _put(url, _entry(a, "2024-01-01 10:00:00", "Complete", ExternalID="P1"))
    await _put(url, _entry(b, "2024-01-01 09:30:00", "Failed", ExternalID="P1"))
    rows = json.loads((await _listing(url, "fs7_v1", project="P1")).text)["ResultSet"]["Result"]
    assert sorted((r["id"], r["status"], r["label"]) for r in rows) == sorted(
        [(a.id, "Complete", a.label), (b.id, "Failed", b.label)]
    )
