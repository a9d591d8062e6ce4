"""
The three project shapes a sweep must read right, against the XNAT-compatible server with its
real header shapes on (empty listings headed by SQL aliases): an empty project, a project with
sessions but no assessors, and a project with sessions shared into it.
"""

from __future__ import annotations

import httpx
import pytest

from xnat_client import AssessorFields, Credentials, RetryPolicy, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(attempts=2, backoff_initial=0.001, backoff_max=0.002, budget=5.0)


def connect(server: XnatServer) -> XnatClient:
    return XnatClient(
        "http://xnat.local",
        credentials=Credentials.password("admin", "admin"),
        transport=httpx.ASGITransport(app=server.app),
        retry=FAST,
    )


async def test_empty_project_snapshots_empty() -> None:
    """A project with no subject, session or assessor reads as an empty snapshot."""
    server = XnatServer()
    server.store.add_project("EMPTY")
    async with connect(server) as xnat:
        snapshot = await xnat.project_snapshot("EMPTY")
    assert (snapshot.subjects, snapshot.sessions) == ((), ())


async def test_project_without_assessors_snapshots_its_sessions() -> None:
    """Sessions but no assessor yet: every session with its scans, and no assessor."""
    server = XnatServer()
    project = generate_project(server, "NEW", sessions=3, assessors_per_session=0, seed=2)
    async with connect(server) as xnat:
        snapshot = await xnat.project_snapshot("NEW")
    assert sorted(s.label for s in snapshot.sessions) == sorted(
        s.label for s in project.sessions.values()
    )
    assert all(s.assessors == () and s.scans for s in snapshot.sessions)


async def test_shared_sessions_are_in_the_sharing_projects_snapshot() -> None:
    """A session shared into another project is in that project's snapshot under its label
    there, and an assessor created through that project belongs to it."""
    server = XnatServer()
    generate_project(server, "SRC", sessions=2, assessors_per_session=0, seed=3)
    store = server.store
    store.add_project("STUDY")
    source = next(iter(store.projects["SRC"].sessions.values()))
    store.share(source, "STUDY", "study_visit1", "study_subject1")
    async with connect(server) as xnat:
        before = await xnat.project_snapshot("STUDY")
        [listed] = before.sessions
        assert (listed.id, listed.label, listed.project) == (source.id, "study_visit1", "STUDY")
        assert listed.subject_label == "study_subject1"
        assert [s.label for s in before.subjects] == ["study_subject1"]
        fields = AssessorFields(proctype="demo_v1", procstatus="NEED_TO_RUN")
        await xnat.put_assessor("STUDY", "study_subject1", "study_visit1", "STUDY-x-a", fields)
        after = await xnat.project_snapshot("STUDY")
        again = await xnat.session_snapshot("STUDY", "study_visit1")
        source_view = await xnat.project_snapshot("SRC")
    assert [a.label for a in after.sessions[0].assessors] == ["STUDY-x-a"]
    assert again is not None
    assert [a.label for a in again.assessors] == ["STUDY-x-a"]
    assert [a.project for s in source_view.sessions for a in s.assessors] == []
