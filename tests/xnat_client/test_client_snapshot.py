"""Snapshot requests follow the wire contract exactly (scripted XNAT, unit tier)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from xnat_client import AssessorFields, BadResponse

from ._client_fakes import FakeXnat, client_for, csv_listing

pytestmark = pytest.mark.anyio

SESSION_COLUMNS = (
    "ID,label,project,subject_ID,subject_label,date,xsiType,last_modified,session_type,"
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


def contract(request: httpx.Request) -> httpx.Response:
    """Answer only the three requests of the contract; anything else is a 400."""
    params = dict(request.url.params)
    path = request.url.path
    if path == "/data/projects/P1/subjects" and params == {
        "columns": "ID,label,project",
        "format": "csv",
    }:
        row = {"ID": "S1", "label": "sub1", "project": "P1", "URI": "/data/subjects/S1"}
        return csv_listing([row])
    if path == "/data/projects/P1/experiments" and params.get("xsiType") == "xnat:imageSessionData":
        assert params["columns"] == SESSION_COLUMNS
        assert "project" not in params  # the project's listing, shared sessions included
        assert params["format"] == "csv"
        row = {"ID": "E1", "label": "sess 1", "project": "P1", "subject_ID": "S1"}
        if params.get("label", "sess 1") != "sess 1":
            return csv_listing([], "ID,label")
        return csv_listing([{**row, "xnat:imagescandata/id": "1", "xsiType": "xnat:mrSessionData"}])
    if path == "/data/experiments" and params.get("xsiType") == "proc:genProcData":
        assert params["columns"] == ASSESSOR_COLUMNS
        assert params["format"] == "csv"
        row = {"ID": "A1", "label": "a", "session_ID": "E1", "proc:genprocdata/procstatus": "x"}
        return csv_listing([row])
    return httpx.Response(400, text=f"<h3>unexpected {request.url}</h3>")


async def test_project_snapshot_sends_the_three_contract_requests() -> None:
    """project_snapshot is exactly the subjects + sessions + assessors listings."""
    fake = FakeXnat(contract)
    async with client_for(fake) as xnat:
        snapshot = await xnat.project_snapshot("P1")
    assert snapshot.requests == 3
    assert len(fake.data_requests()) == 3
    assert [s.id for s in snapshot.subjects] == ["S1"]
    session = snapshot.session("sess 1")
    assert session is not None
    assert [sc.id for sc in session.scans] == ["1"]
    assert [(a.id, a.procstatus) for a in session.assessors] == [("A1", "x")]


async def test_the_cpu_hook_wraps_folding_and_building_never_a_request() -> None:
    """`around_cpu_work` is entered for the folds and the build; no request is in flight then."""
    inside = threading.local()
    entered: list[str] = []

    @contextmanager
    def paused() -> Iterator[None]:
        inside.active = True
        entered.append(threading.current_thread().name)
        was = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            inside.active = False
            if was:
                gc.enable()

    def answer(request: httpx.Request) -> httpx.Response:
        assert not getattr(inside, "active", False), "a request was sent inside the hook"
        return contract(request)

    fake = FakeXnat(answer)
    async with client_for(fake, around_cpu_work=paused) as xnat:
        snapshot = await xnat.project_snapshot("P1")
        one = await xnat.session_snapshot("P1", "sess 1")
    assert (len(snapshot.sessions), one is not None) == (1, True)
    assert len(entered) >= 4  # three listings folded and the build, for the project
    assert any(name != threading.main_thread().name for name in entered)  # the build thread
    assert gc.isenabled()


async def test_session_snapshot_filters_by_label() -> None:
    """session_snapshot sends the label filters and keeps only the exact label."""
    fake = FakeXnat(contract)
    async with client_for(fake) as xnat:
        found = await xnat.session_snapshot("P1", "sess 1")
        missing = await xnat.session_snapshot("P1", "other")
    assert found is not None
    assert found.id == "E1"
    assert missing is None
    first, second = fake.data_requests()[:2]
    filters = {
        r.url.params.get("label") or r.url.params.get("session_label") for r in (first, second)
    }
    assert filters == {"sess 1"}
    assert len(fake.data_requests()) == 4


async def test_session_label_with_filter_wildcards_is_not_sent_as_filter() -> None:
    """A label containing `,` or `*` is matched on the client, never as an XNAT OR/wildcard."""
    fake = FakeXnat(contract)
    async with client_for(fake) as xnat:
        assert await xnat.session_snapshot("P1", "sess*,1") is None
    assert all("label" not in r.url.params for r in fake.data_requests())
    assert all("session_label" not in r.url.params for r in fake.data_requests())


async def test_put_assessor_is_one_put_with_every_field() -> None:
    """Creating an assessor with its fields is a single PUT; inputs go as compact JSON."""
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, text="XNAT_E00042\n")

    fields = AssessorFields(
        proctype="demo_v1",
        procstatus="NEED_TO_RUN",
        qcstatus="Job Pending",
        inputs={"b": 1, "a": "x y"},
    )
    async with client_for(FakeXnat(respond)) as xnat:
        new_id = await xnat.put_assessor(
            "P1", "S1", "E1", "P1-x-S1-x-E1-x-demo_v1-x-0a1b2c3d", fields
        )
    assert new_id == "XNAT_E00042"
    [put] = seen
    assert put.method == "PUT"
    assert dict(put.url.params) == {
        "xsiType": "proc:genProcData",
        "proc:genProcData/proctype": "demo_v1",
        "proc:genProcData/procstatus": "NEED_TO_RUN",
        "proc:genProcData/validation/status": "Job Pending",
        "proc:genProcData/inputs": '{"a":"x y","b":1}',
    }


async def test_put_assessor_with_an_html_answer_is_bad_response() -> None:
    """An HTML page instead of the new ID is not mistaken for an ID."""
    fake = FakeXnat(lambda _r: httpx.Response(200, text="<html><body>login</body></html>"))
    async with client_for(fake) as xnat:
        with pytest.raises(BadResponse):
            await xnat.put_assessor("P1", "S1", "E1", "A", AssessorFields())
