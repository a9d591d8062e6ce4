"""The client against the XNAT-compatible server, in-process through httpx.ASGITransport."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest

from xnat_client import (
    AssessorFields,
    Conflict,
    Credentials,
    NotFound,
    ResourceRef,
    RetryPolicy,
    XnatClient,
)
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(attempts=4, backoff_initial=0.001, backoff_max=0.002, budget=5.0)
# `#` and `?` are left out of labels: XNAT itself cannot address them by label (they are covered
# by the quoting unit tests and, in file names, by the upload test below).
HOSTILE_LABEL = "my label+ü;'$(x)`&\"100%"
HOSTILE_FILE = "out dir/ré port+#1%?.txt"


def make_server(sessions: int = 6) -> XnatServer:
    server = XnatServer(users={"admin": "admin-pw"})
    generate_project(server, "DEMO", sessions=sessions, seed=7)
    return server


def connect(server: XnatServer) -> XnatClient:
    return XnatClient(
        "http://xnat.local",
        credentials=Credentials.password("admin", "admin-pw"),
        transport=httpx.ASGITransport(app=server.app),
        retry=FAST,
    )


@pytest.fixture
async def server_and_client() -> AsyncIterator[tuple[XnatServer, XnatClient]]:
    server = make_server()
    async with connect(server) as xnat:
        with anyio.fail_after(30):
            yield server, xnat


async def test_snapshot_reads_session_types_and_pet_tracers() -> None:
    """A session's session_type is in every snapshot; PET tracers only when asked (one listing
    more), and a listing of PET sessions only: the MR sessions are all still there."""
    server = XnatServer(users={"admin": "admin-pw"})
    store = server.store
    store.add_project("PT")
    subject = store.add_subject("PT", "S1")
    store.add_session(subject, "S1_MR", session_type="Baseline", date="2020-01-01")
    store.add_session(subject, "S1_PET", "xnat:petSessionData", **{"tracer/name": "FDG"})
    async with connect(server) as xnat:
        plain = await xnat.project_snapshot("PT")
        before = xnat.requests_sent
        traced = await xnat.project_snapshot("PT", tracers=True)
        sent = xnat.requests_sent - before
    assert {s.label: (s.session_type, s.tracer) for s in plain.sessions} == {
        "S1_MR": ("Baseline", ""),
        "S1_PET": ("", ""),
    }
    assert {s.label: s.tracer for s in traced.sessions} == {"S1_MR": "", "S1_PET": "FDG"}
    assert (plain.requests, traced.requests, sent) == (3, 4, 4)


async def test_subject_assessors_are_written_read_and_hold_resources() -> None:
    """DAX's proc:subjGenProcData: created under the subject (no session), updated by ID, its
    resources its own, read back by a snapshot that asks for them, and kept out of the
    sessions."""
    server = XnatServer(users={"admin": "admin-pw"})
    store = server.store
    store.add_project("SG")
    subject = store.add_subject("SG", "S1")
    store.add_session(subject, "S1_MR")
    label = "SG-x-S1-x-long_v1-x-0a1b2c3d"
    async with connect(server) as xnat:
        fields = AssessorFields(proctype="long_v1", procstatus="NEED_TO_RUN", inputs={"a": "/p"})
        made = await xnat.put_assessor("SG", subject.id, "", label, fields)
        await xnat.update_assessor("", made, AssessorFields(procstatus="COMPLETE"))
        ref = ResourceRef.assessor_output("", made, "LONG")
        await xnat.upload_file(ref, "out/x.txt", b"x")
        snapshot = await xnat.project_snapshot("SG", subject_assessors=True)
        plain = await xnat.project_snapshot("SG")
    (found,) = snapshot.subject_assessors
    assert (found.id, found.label, found.subject_id, found.session_id) == (
        made,
        label,
        subject.id,
        "",
    )
    assert (found.xsi_type, found.proctype, found.procstatus) == (
        "proc:subjGenProcData",
        "long_v1",
        "COMPLETE",
    )
    assert (found.inputs, found.resources) == ({"a": "/p"}, ("LONG",))
    assert [s.label for s in snapshot.sessions] == ["S1_MR"]
    assert plain.subject_assessors == ()
    assert store.experiments[made].resources["LONG"].files == {"out/x.txt": b"x"}


async def test_snapshot_matches_the_store(server_and_client: tuple[XnatServer, XnatClient]) -> None:
    """Every subject, session, scan, scan resource and assessor in the store is in the snapshot."""
    server, xnat = server_and_client
    snapshot = await xnat.project_snapshot("DEMO")
    stored = server.store.projects["DEMO"]
    assert snapshot.requests == 3
    assert {s.id for s in snapshot.subjects} == set(stored.subjects)
    assert {s.id for s in snapshot.sessions} == set(stored.sessions)
    for session in snapshot.sessions:
        original = stored.sessions[session.id]
        assert session.label == original.label
        assert session.subject_id == original.subject_id
        assert {sc.id for sc in session.scans} == set(original.scans)
        for scan in session.scans:
            want = original.scans[scan.id]
            assert scan.type == want.type
            assert {r.label for r in scan.resources} == set(want.resources)
            for res in scan.resources:
                assert res.file_count == len(want.resources[res.label].files)
        assert {a.id for a in session.assessors} == set(original.assessors)
        for assessor in session.assessors:
            assert assessor.label == original.assessors[assessor.id].label
            assert assessor.procstatus != ""


async def test_snapshot_request_count_does_not_grow_with_sessions() -> None:
    """A project 20 times bigger is read with the same number of requests."""
    counts = []
    for sessions in (2, 40):
        server = make_server(sessions)
        async with connect(server) as xnat:
            before = xnat.requests_sent
            snapshot = await xnat.project_snapshot("DEMO")
            counts.append((snapshot.requests, xnat.requests_sent - before))
        assert len(snapshot.sessions) == sessions
    assert counts[0] == counts[1]
    assert counts[0][0] == 3


async def test_session_snapshot_agrees_with_project_snapshot(
    server_and_client: tuple[XnatServer, XnatClient],
) -> None:
    """session_snapshot returns the same session as the project snapshot, in <= 4 requests."""
    _server, xnat = server_and_client
    snapshot = await xnat.project_snapshot("DEMO")
    wanted = snapshot.sessions[3]
    before = xnat.requests_sent
    found = await xnat.session_snapshot("DEMO", wanted.label)
    assert xnat.requests_sent - before <= 4
    assert found == wanted
    assert await xnat.session_snapshot("DEMO", "no such session") is None


async def test_created_assessor_and_fields_show_in_next_snapshot(
    server_and_client: tuple[XnatServer, XnatClient],
) -> None:
    """put_assessor creates then merges; fields (quoted JSON inputs too) read back exactly."""
    _server, xnat = server_and_client
    session = (await xnat.project_snapshot("DEMO")).sessions[0]
    inputs = {"t1": f"/data/experiments/{session.id}/scans/1", "note": 'a "quoted" <value> & more'}
    label = f"DEMO-x-{session.subject_label}-x-{session.label}-x-demo_v1-x-0123abcd"
    fields = AssessorFields(proctype="demo_v1", procstatus="NEED_TO_RUN", inputs=inputs)
    new_id = await xnat.put_assessor("DEMO", session.subject_id, session.id, label, fields)
    again = await xnat.put_assessor(
        "DEMO", session.subject_id, session.id, label, AssessorFields(procstatus="JOB_RUNNING")
    )
    assert again == new_id
    await xnat.update_assessor(
        session.id, new_id, AssessorFields(jobid="4242", qcstatus="Job Pending")
    )
    after = await xnat.session_snapshot("DEMO", session.label)
    assert after is not None
    created = next(a for a in after.assessors if a.id == new_id)
    assert (created.label, created.proctype, created.procstatus) == (
        label,
        "demo_v1",
        "JOB_RUNNING",
    )
    assert (created.jobid, created.qcstatus) == ("4242", "Job Pending")
    assert created.inputs == inputs
    assert created.session_id == session.id


async def test_hostile_assessor_label_round_trips(
    server_and_client: tuple[XnatServer, XnatClient],
) -> None:
    """A label with space, +, unicode, quotes, `&`, `%` and shell text reads back unchanged."""
    _server, xnat = server_and_client
    session = (await xnat.project_snapshot("DEMO")).sessions[1]
    fields = AssessorFields(procstatus="NEED_INPUTS", note="missing T1; see $(log)")
    new_id = await xnat.put_assessor("DEMO", session.subject_id, session.id, HOSTILE_LABEL, fields)
    snapshot = await xnat.project_snapshot("DEMO")
    found = next(a for s in snapshot.sessions for a in s.assessors if a.id == new_id)
    assert (found.label, found.note) == (HOSTILE_LABEL, "missing T1; see $(log)")
    await xnat.delete_assessor(session.id, new_id)
    snapshot = await xnat.project_snapshot("DEMO")
    assert all(a.id != new_id for s in snapshot.sessions for a in s.assessors)
    with pytest.raises(NotFound):
        await xnat.delete_assessor(session.id, new_id)


async def test_upload_list_download_with_a_hostile_file_name(
    server_and_client: tuple[XnatServer, XnatClient],
) -> None:
    """A file with spaces, unicode and URL specials uploads, lists and downloads intact."""
    _server, xnat = server_and_client
    session = (await xnat.project_snapshot("DEMO")).sessions[0]
    assessor = session.assessors[0]
    ref = ResourceRef.assessor_output(session.id, assessor.id, "REPORT")
    await xnat.create_resource(ref, format="TXT")
    data = ("résumé\n" * 50_000).encode()
    entry = await xnat.upload_file(ref, HOSTILE_FILE, data)
    assert (entry.name, entry.size) == (HOSTILE_FILE, len(data))
    listed = await xnat.list_files(ref)
    assert [f.name for f in listed] == [HOSTILE_FILE]
    chunks: list[bytes] = []

    async def sink(chunk: bytes) -> None:
        chunks.append(chunk)

    assert await xnat.download_file(ref, HOSTILE_FILE, sink) == len(data)
    assert b"".join(chunks) == data
    with pytest.raises(Conflict):
        await xnat.upload_file(ref, HOSTILE_FILE, b"other")
    replaced = await xnat.upload_file(ref, HOSTILE_FILE, b"other", overwrite=True)
    assert replaced.size == 5
    snapshot = await xnat.session_snapshot("DEMO", session.label)
    assert snapshot is not None
    outputs = next(a for a in snapshot.assessors if a.id == assessor.id).resources
    assert "REPORT" in outputs


async def test_upload_zip_is_extracted(server_and_client: tuple[XnatServer, XnatClient]) -> None:
    """upload_zip with extract=True leaves the zip's members, paths kept, in the resource."""
    _server, xnat = server_and_client
    session = (await xnat.project_snapshot("DEMO")).sessions[0]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", b"alpha")
        archive.writestr("sub/b.txt", b"beta")
    ref = ResourceRef.session(session.id, "BUNDLE")
    entries = await xnat.upload_zip(ref, buffer.getvalue(), name="bundle.zip")
    assert sorted((e.name, e.size) for e in entries) == [("a.txt", 5), ("sub/b.txt", 4)]


async def test_retries_through_injected_503s(
    server_and_client: tuple[XnatServer, XnatClient],
) -> None:
    """Two injected 503s on the listing are absorbed by retries; the snapshot still arrives."""
    server, xnat = server_and_client
    await xnat.list_projects()
    server.faults.inject("error", count=2, status=503)
    projects = await xnat.list_projects()
    assert [p.id for p in projects] == ["DEMO"]


async def test_expired_session_and_logout_on_the_server(
    server_and_client: tuple[XnatServer, XnatClient],
) -> None:
    """After the server forgets every session the client re-logs in; closing logs out."""
    server, xnat = server_and_client
    await xnat.list_projects()
    server.sessions.expire_all()
    assert [p.id for p in await xnat.list_projects()] == ["DEMO"]
    await xnat.aclose()
    assert server.sessions._live == {}
