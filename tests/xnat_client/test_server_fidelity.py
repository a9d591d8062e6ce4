"""What the server answers where real XNAT's answer is particular: schemas, HEAD, scan lists,
typed and custom-field writes, subject shortcuts, joins, the XML document, timestamps."""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from importlib.resources import files

import httpx
import pytest

from xnat_client.sandbox import StoredSession, XnatServer, generate_project
from xnat_client.sandbox._store import KNOWN_TYPES, timestamp

pytestmark = pytest.mark.anyio
XS = "{http://www.w3.org/2001/XMLSchema}"
XNAT = "{http://nrg.wustl.edu/xnat}"


@pytest.fixture
def server() -> XnatServer:
    server = XnatServer()
    generate_project(server, "DEMO", sessions=4, seed=5)
    return server


@pytest.fixture
async def client(server: XnatServer) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://xnat", auth=("admin", "admin")
    ) as c:
        yield c


@pytest.fixture
def session(server: XnatServer) -> StoredSession:
    return next(iter(server.store.projects["DEMO"].sessions.values()))


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_schemas_list_and_describe_every_type_the_server_holds(
    client: httpx.AsyncClient,
) -> None:
    """/xapi/schemas names xnat, proc and xdat; together they declare every stored type."""
    listed = (await client.get("/xapi/schemas?format=json")).json()
    declared: set[str] = set()
    for name in listed:
        response = await client.get(f"/xapi/schemas/{name}")
        assert response.status_code == 200
        root = ET.fromstring(response.text)
        prefix = {"xnat": "xnat", "proc": "proc", "xdat": "xdat"}[name]
        declared |= {f"{prefix}:{t.get('name')}" for t in root.iter(f"{XS}complexType")}
    assert listed == ["xnat", "proc", "xdat"]
    assert set(KNOWN_TYPES.values()) <= declared
    assert (await client.get("/xapi/schemas/proc/proc.xsd")).status_code == 200
    assert (await client.get("/xapi/schemas/fs")).status_code == 404


def test_packaged_schemas_are_well_formed() -> None:
    """The XSDs ship inside the package (a wheel has them) and parse."""
    folder = files("xnat_client.sandbox") / "schemas"
    for name in ("xnat", "proc", "xdat"):
        ET.fromstring((folder / f"{name}.xsd").read_text("utf-8"))


async def test_head_on_a_file_has_get_headers_and_no_body(
    client: httpx.AsyncClient, session: StoredSession
) -> None:
    """HEAD answers as GET would, Content-Length included, with no body; missing: 404."""
    url = f"/data/experiments/{session.id}/scans/1/resources/NIFTI/files/T1w.nii.gz"
    head = await client.head(url)
    size = len(session.scans["1"].resources["NIFTI"].files["T1w.nii.gz"])
    assert (head.status_code, head.headers["content-length"], head.content) == (
        200,
        str(size),
        b"",
    )
    assert (await client.head(url + "x")).status_code == 404


@pytest.mark.parametrize("key", ["ALL", "*", "1,2", "T1w,DWI"])
async def test_scan_segment_names_several_scans_in_file_listings(
    client: httpx.AsyncClient, session: StoredSession, key: str
) -> None:
    """`scans/ALL|*|1,2|<types>/files` lists the files of every scan named, by scan."""
    response = await client.get(f"/data/experiments/{session.id}/scans/{key}/files?format=json")
    scans = {
        s.id
        for s in session.scans.values()
        if key in ("ALL", "*") or s.id in key.split(",") or s.type in key.split(",")
    }
    uris = {
        r["URI"].split("/scans/")[1].split("/")[0] for r in response.json()["ResultSet"]["Result"]
    }
    assert uris == scans


async def test_scan_segment_naming_no_scan_is_404(
    client: httpx.AsyncClient, session: StoredSession
) -> None:
    """A type no scan has answers XNAT's scan 404."""
    response = await client.get(f"/data/experiments/{session.id}/scans/NOPE/files?format=json")
    assert response.status_code == 404


async def test_typed_and_custom_field_writes_read_back_as_children(
    client: httpx.AsyncClient, server: XnatServer, session: StoredSession
) -> None:
    """`validation[@xsi:type=...]/status` and `fields/field[name=x]/field` are stored as the
    fields they name and come back as a `validation` item and a `fields/field` item."""
    assessor = next(iter(session.assessors.values()))
    url = f"/data/experiments/{session.id}/assessors/{assessor.id}"
    params = {
        "xsiType": "proc:genProcData",
        "proc:genProcData/validation[@xsi:type=xnat:validationData]/status": "Passed",
        "proc:genProcData/fields/field[name=reviewer]/field": "ann",
    }
    assert (await client.put(url, params=params)).status_code == 200
    item = (await client.get(url + "?format=json")).json()["items"][0]
    children = {c["field"]: c["items"] for c in item["children"]}
    assert children["validation"][0]["data_fields"]["status"] == "Passed"
    assert [i["data_fields"] for i in children["fields/field"]] == [
        {"field": "ann", "name": "reviewer"}
    ]
    assert assessor.fields["validation/status"] == "Passed"


async def test_subject_demographics_write_reads_back_in_listings(
    client: httpx.AsyncClient, server: XnatServer
) -> None:
    """`demographics[@xsi:type=xnat:demographicData]/gender` is the `gender` shortcut."""
    subject = next(iter(server.store.projects["DEMO"].subjects.values()))
    params = {"xnat:subjectData/demographics[@xsi:type=xnat:demographicData]/gender": "other"}
    await client.put(f"/data/projects/DEMO/subjects/{subject.label}", params=params)
    rows = _csv(
        (await client.get("/data/projects/DEMO/subjects?format=csv&columns=ID,gender,src,dob")).text
    )
    mine = next(r for r in rows if r["ID"] == subject.id)
    assert (mine["gender"], mine["src"], mine["dob"]) == ("other", "synthetic", "")


async def test_session_listing_joins_scans_by_session_xpaths(
    client: httpx.AsyncClient, server: XnatServer
) -> None:
    """`xnat:imagesessiondata/scans/scan/*` columns give one row per session x scan."""
    columns = "ID,xnat:imagesessiondata/scans/scan/id,xnat:imagesessiondata/scans/scan/type"
    rows = _csv(
        (await client.get(f"/data/projects/DEMO/experiments?format=csv&columns={columns}")).text
    )
    expected = sorted(
        (s.id, sc.id, sc.type)
        for s in server.store.projects["DEMO"].sessions.values()
        for sc in s.scans.values()
    )
    got = sorted(
        (
            r["ID"],
            r["xnat:imagesessiondata/scans/scan/id"],
            r["xnat:imagesessiondata/scans/scan/type"],
        )
        for r in rows
    )
    assert got == expected


async def test_session_listing_joins_assessors_by_proc_columns(
    client: httpx.AsyncClient, server: XnatServer
) -> None:
    """`proc:genprocdata/*` columns on a project's sessions give one row per session x assessor."""
    columns = "ID,proc:genprocdata/label,proc:genprocdata/procstatus"
    rows = _csv(
        (await client.get(f"/data/projects/DEMO/experiments?format=csv&columns={columns}")).text
    )
    expected = sorted(
        (s.id, a.label, a.fields["procstatus"])
        for s in server.store.projects["DEMO"].sessions.values()
        for a in s.assessors.values()
    )
    got = sorted(
        (r["ID"], r["proc:genprocdata/label"], r["proc:genprocdata/procstatus"]) for r in rows
    )
    assert got == expected


async def test_extension_type_column_becomes_the_root(client: httpx.AsyncClient) -> None:
    """A `xnat:mrsessiondata/...` column makes MR sessions the (secured) root: no auto-added
    `xsiType`/`project`, as QueryOrganizerResource.getRootElementName does."""
    url = "/data/projects/DEMO/experiments?format=csv&columns=ID,xnat:mrsessiondata/age"
    header = (await client.get(url)).text.splitlines()[0].split(",")
    assert header == ["xnat:mrsessiondata/id", "ID", "xnat:mrsessiondata/age", "URI"]


async def test_session_document_has_xnat_root_and_attributes(
    client: httpx.AsyncClient, session: StoredSession
) -> None:
    """`format=xml`: `<xnat:MRSession ID= project= label= modality=>`, `<xnat:file label= URI=
    format= content= file_count= file_size=>` and assessors' inherited fields in `xnat:`."""
    root = ET.fromstring((await client.get(f"/data/experiments/{session.id}?format=xml")).text)
    assert root.tag == f"{XNAT}MRSession"
    assert (root.get("ID"), root.get("label"), root.get("modality")) == (
        session.id,
        session.label,
        "MR",
    )
    nifti = next(f for f in root.iter(f"{XNAT}file") if f.get("label") == "NIFTI")
    assert {"URI", "format", "content", "file_count", "file_size"} <= set(nifti.attrib)
    validation = next(root.iter(f"{XNAT}validation"))
    assert validation.get("status")
    assessor = next(root.iter(f"{XNAT}assessor"))
    assert assessor.find(f"{XNAT}date") is not None
    assert assessor.find("{http://nrg.wustl.edu/proc}procstatus") is not None


async def test_assessor_document_root_is_the_proc_element(
    client: httpx.AsyncClient, session: StoredSession
) -> None:
    """An assessor's own document is rooted at its type's element, `proc:Processing`."""
    assessor = next(iter(session.assessors.values()))
    text = (await client.get(f"/data/experiments/{assessor.id}?format=xml")).text
    root = ET.fromstring(text)
    assert root.tag == "{http://nrg.wustl.edu/proc}Processing"
    assert root.find(f"{XNAT}imageSession_ID") is not None


def test_timestamps_trim_trailing_zeros_as_java_does() -> None:
    """`Timestamp.toString()`: `.0`, `.5`, `.123`; never `.000`."""
    base = dt.datetime(2022, 1, 18, 16, 41, 25)
    assert [timestamp(base.replace(microsecond=us)) for us in (0, 500_000, 123_000)] == [
        "2022-01-18 16:41:25.0",
        "2022-01-18 16:41:25.5",
        "2022-01-18 16:41:25.123",
    ]


async def test_empty_experiment_listing_is_headed_by_sql_aliases() -> None:
    """No rows: XNAT never renames the columns, so no `ID` and no `URI` (the switch is on by
    default); switched off, the renamed header."""
    for raw, expected in (
        (True, ["xnat_subjectassessordata_id", "xnat_experimentdata_id"]),
        (False, ["xnat:subjectassessordata/id", "ID", "xsiType", "project", "URI"]),
    ):
        server = XnatServer(raw_empty_headers=raw)
        server.store.add_project("EMPTY")
        transport = httpx.ASGITransport(app=server.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://x", auth=("admin", "admin")
        ) as c:
            text = (await c.get("/data/projects/EMPTY/experiments?format=csv&columns=ID")).text
        header = text.splitlines()[0].split(",")
        assert header[: len(expected)] == expected
        assert ("URI" in header) is not raw


async def test_shared_session_is_listed_by_the_sharing_project(
    client: httpx.AsyncClient, server: XnatServer, session: StoredSession
) -> None:
    """Shared into OTHER: OTHER's listing has it under its label there with OTHER as project;
    `xnat:imagesessiondata/sharing/share/project=OTHER` finds it site-wide, by its own label."""
    server.store.add_project("OTHER")
    server.store.share(session, "OTHER", "other_label")
    listed = _csv(
        (
            await client.get("/data/projects/OTHER/experiments?format=csv&columns=ID,label,project")
        ).text
    )
    assert [(r["ID"], r["label"], r["project"]) for r in listed] == [
        (session.id, "other_label", "OTHER")
    ]
    url = "/data/experiments?format=csv&columns=ID,label"
    url += "&xnat:imagesessiondata/sharing/share/project=OTHER"
    found = _csv((await client.get(url)).text)
    assert [(r["ID"], r["label"]) for r in found] == [(session.id, session.label)]
    own = _csv((await client.get("/data/experiments?format=csv&columns=ID&project=OTHER")).text)
    assert own == []


async def test_share_through_the_rest_call_lists_the_session_in_the_other_project(
    client: httpx.AsyncClient, server: XnatServer, session: StoredSession
) -> None:
    """`PUT .../experiments/{e}/projects/{p}?label=x` shares; sharing into its own project
    or under a label taken there is a 409."""
    server.store.add_project("OTHER")
    url = f"/data/experiments/{session.id}/projects/OTHER"
    assert (await client.put(url, params={"label": "x1"})).status_code == 200
    listed = _csv(
        (await client.get("/data/projects/OTHER/experiments?format=csv&columns=label")).text
    )
    assert [r["label"] for r in listed] == ["x1"]
    assert session.shares == {"OTHER": "x1"}
    assert (await client.put(f"/data/experiments/{session.id}/projects/DEMO")).status_code == 409
    other = next(s for s in server.store.projects["DEMO"].sessions.values() if s is not session)
    taken = await client.put(f"/data/experiments/{other.id}/projects/OTHER", params={"label": "x1"})
    assert taken.status_code == 409
