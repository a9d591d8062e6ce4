"""
The snapshot survives the listing shapes real XNAT sends, one test per shape, each body written
the way XNAT writes it (ProjSubExptList, ExperimentListResource and QueryOrganizer in xnat-web:
columns renamed only when rows exist, the root's key column first, auto-added `xsiType` and
`project` last, shared sessions under the sharing project's label, Java timestamps).
"""

from __future__ import annotations

import httpx
import pytest

from xnat_client import BadResponse

from ._client_fakes import FakeXnat, client_for

pytestmark = pytest.mark.anyio

SUBJECTS = "ID,label,project,URI\nS1,sub1,P1,/data/subjects/S1\n"
# An empty experiment listing: the SQL aliases of the selected columns, no ID and no URI.
EMPTY_SESSIONS = (
    "xnat_imagesessiondata_id,xnat_experimentdata_id,xnat_experimentdata_label,"
    "xnat_experimentdata_project,xnat_subjectassessordata_subject_id,xnat_subjectdata_label,"
    "xnat_experimentdata_date,xnat_experimentdata_extension_item_element_name,"
    "xnat_experimentdata_meta_last_modified,xnat_imagescandata_id,xnat_imagescandata_type\n"
)
EMPTY_ASSESSORS = (
    "proc_genprocdata_id,xnat_experimentdata_id,xnat_experimentdata_label,"
    "xnat_experimentdata_project,xnat_imagesessiondata_id,xnat_imagesessiondata_label,"
    "proc_genprocdata_proctype,proc_genprocdata_procstatus\n"
)
# Rows as ProjSubExptList names them: the root's key first, URI, then the auto-added columns.
SESSIONS = (
    "session_ID,ID,label,project,subject_ID,subject_label,date,last_modified,"
    "xnat:imagescandata/id,xnat:imagescandata/type,xnat:imagescandata/file/label,"
    "URI,xsiType\n"
    "E1,E1,sess1,P1,S1,sub1,2024-01-31,2022-01-18 16:41:25.0,1,T1w,NIFTI,"
    "/data/experiments/E1,xnat:mrSessionData\n"
    "E1,E1,sess1,P1,S1,sub1,2024-01-31,2022-01-18 16:41:25.0,1,T1w,DICOM,"
    "/data/experiments/E1,xnat:mrSessionData\n"
)


def xnat(sessions: str, assessors: str, subjects: str = SUBJECTS) -> FakeXnat:
    """A scripted XNAT answering the snapshot's three listings with these bodies."""

    def respond(request: httpx.Request) -> httpx.Response:
        path, kind = request.url.path, request.url.params.get("xsiType", "")
        body = {
            ("/data/projects/P1/subjects", ""): subjects,
            ("/data/projects/P1/experiments", "xnat:imageSessionData"): sessions,
            ("/data/experiments", "proc:genProcData"): assessors,
        }.get((path, kind))
        if body is None:
            return httpx.Response(400, text=f"<h3>unexpected {request.url}</h3>")
        return httpx.Response(200, text=body, headers={"Content-Type": "text/csv"})

    return FakeXnat(respond)


async def test_empty_project_with_raw_alias_headers_is_an_empty_snapshot() -> None:
    """A project without sessions: listings headed by SQL aliases mean no sessions, no error."""
    async with client_for(xnat(EMPTY_SESSIONS, EMPTY_ASSESSORS, "ID,label,project,URI\n")) as c:
        snapshot = await c.project_snapshot("P1")
    assert (snapshot.subjects, snapshot.sessions) == ((), ())


async def test_sessions_without_assessors_read_with_no_assessors() -> None:
    """A project with sessions but no assessor yet: the alias-headed assessor listing is empty."""
    async with client_for(xnat(SESSIONS, EMPTY_ASSESSORS)) as c:
        snapshot = await c.project_snapshot("P1")
    [session] = snapshot.sessions
    assert (session.id, session.assessors) == ("E1", ())
    assert [(s.id, s.type) for s in session.scans] == [("1", "T1w")]
    assert [r.label for r in session.scans[0].resources] == ["NIFTI", "DICOM"]


async def test_alias_header_followed_by_rows_is_a_bad_response() -> None:
    """Rows under a header without ID are not something to guess at: BadResponse (itself, not
    a task group)."""
    body = EMPTY_ASSESSORS + "A1,A1,a1,P1,E1,sess1,demo,COMPLETE\n"
    async with client_for(xnat(SESSIONS, body)) as c:
        with pytest.raises(BadResponse, match="without an ID column"):
            await c.project_snapshot("P1")


async def test_key_column_first_and_auto_columns_last_are_ignored() -> None:
    """The root's key (`session_ID`) before `ID` and `xsiType` after `URI` change nothing."""
    async with client_for(xnat(SESSIONS, EMPTY_ASSESSORS)) as c:
        snapshot = await c.project_snapshot("P1")
    [session] = snapshot.sessions
    assert (session.label, session.subject_label, session.xsi_type) == (
        "sess1",
        "sub1",
        "xnat:mrSessionData",
    )


async def test_java_timestamps_are_kept_as_xnat_wrote_them() -> None:
    """`Timestamp.toString()` trims trailing zeros (`...:25.0`); the value is kept verbatim."""
    async with client_for(xnat(SESSIONS, EMPTY_ASSESSORS)) as c:
        snapshot = await c.project_snapshot("P1")
    assert snapshot.sessions[0].last_modified == "2022-01-18 16:41:25.0"


async def test_shared_session_reads_with_the_sharing_projects_label() -> None:
    """A session shared into P1 is listed by P1 under its label there and with P1 as project."""
    shared = (
        "session_ID,ID,label,project,subject_ID,subject_label,xnat:imagescandata/id,URI,xsiType\n"
        "E9,E9,shared_label,P1,S9,sub9,1,/data/experiments/E9,xnat:mrSessionData\n"
    )
    async with client_for(xnat(shared, EMPTY_ASSESSORS)) as c:
        snapshot = await c.project_snapshot("P1")
    [session] = snapshot.sessions
    assert (session.id, session.label, session.project) == ("E9", "shared_label", "P1")


async def test_empty_csv_body_is_still_a_bad_response() -> None:
    """No header at all is not a listing: an empty body never reads as an empty project."""
    async with client_for(xnat("", EMPTY_ASSESSORS)) as c:
        with pytest.raises(BadResponse, match="empty answer"):
            await c.project_snapshot("P1")
