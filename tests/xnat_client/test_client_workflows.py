"""XnatClient's workflow entries against the server over real HTTP: write, list, refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from xnat_client import Credentials, Forbidden, RetryPolicy, Workflow, XnatClient
from xnat_client.sandbox import StoredAssessor, XnatServer, generate_project, serve_tcp

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 5, 6, 7, 8, 9, 123000)


@pytest.fixture
def server() -> XnatServer:
    server = XnatServer(users={"admin": "admin", "ann": "pw"})
    generate_project(server, "P1", sessions=1, assessors_per_session=2, seed=3)
    return server


@pytest.fixture
def assessor(server: XnatServer) -> StoredAssessor:
    return next(server.store.assessors_of("P1"))


async def _client(server: XnatServer, user: str = "admin") -> AsyncIterator[XnatClient]:
    async with serve_tcp(server) as url:
        password = "admin" if user == "admin" else "pw"
        retry = RetryPolicy(attempts=2, backoff_initial=0.01, backoff_max=0.01)
        credentials = Credentials.password(user, password)
        async with XnatClient(url, credentials=credentials, retry=retry) as client:
            yield client


@pytest.fixture
async def xnat(server: XnatServer) -> AsyncIterator[XnatClient]:
    async for client in _client(server):
        yield client


def _step(assessor: StoredAssessor, minutes: int, status: str, **more: object) -> Workflow:
    return Workflow(
        experiment_id=assessor.id,
        pipeline_name="fs7_v1",
        launch_time=T0 + timedelta(minutes=minutes),
        status=status,
        data_type="proc:genProcData",
        project="P1",
    ).model_copy(update=more)


async def test_entries_are_listed_in_the_order_written_with_their_fields(
    xnat: XnatClient, assessor: StoredAssessor
) -> None:
    """Listed as written (XNAT's key), whatever their launch times, every field as written."""
    first = _step(assessor, 5, "Queued", step_id="JOB_RUNNING", job_id="1234", percent_complete=0)
    ran = _step(assessor, 1, "Running", step_id="JOB_RUNNING")  # learnt later, started earlier
    failed = _step(assessor, 9, "Failed", step_id="JOB_FAILED", comments='killed: "oom" & more')
    other_pipeline = first.model_copy(update={"pipeline_name": "fs7_v10"})
    for entry in (first, ran, other_pipeline, failed):
        await xnat.add_workflow(entry)
    listed = await xnat.list_workflows("fs7_v1", assessor.id)
    assert [w.status for w in listed] == ["Queued", "Running", "Failed"]
    assert [w.launch_time for w in listed] == [e.launch_time for e in (first, ran, failed)]
    assert (listed[0].job_id, listed[0].step_id, listed[0].percent_complete) == (
        "1234",
        "JOB_RUNNING",
        0.0,
    )
    assert listed[2].comments == 'killed: "oom" & more'
    assert (listed[2].project, listed[2].create_user) == ("P1", "admin")
    assert [w.workflow_id for w in listed] == [1, 2, 4]


async def test_writing_the_same_entry_again_updates_it(
    xnat: XnatClient, server: XnatServer, assessor: StoredAssessor
) -> None:
    """Same pipeline, experiment and launch time: one entry, holding the later fields."""
    await xnat.add_workflow(_step(assessor, 0, "Queued"))
    await xnat.add_workflow(_step(assessor, 0, "Running", step_description="on node n1"))
    listed = await xnat.list_workflows("fs7_v1", assessor.label, project="P1")
    assert [(w.status, w.step_description) for w in listed] == [("Running", "on node n1")]
    assert len(server.store.workflows) == 1


async def test_an_account_kept_from_writing_workflows_gets_forbidden(
    server: XnatServer, assessor: StoredAssessor
) -> None:
    """XNAT's 403 on a workflow write is `Forbidden`, with XNAT's words in it."""
    server.workflow_writers = frozenset({"admin"})
    async for client in _client(server, user="ann"):
        with pytest.raises(Forbidden, match="not allowed to make changes"):
            await client.add_workflow(_step(assessor, 0, "Queued"))
    assert server.store.workflows == {}


async def test_no_entries_is_an_empty_list(xnat: XnatClient, assessor: StoredAssessor) -> None:
    """An experiment without entries of the pipeline lists none (no 404 with display=ALL)."""
    assert await xnat.list_workflows("fs7_v1", assessor.id) == []


async def test_an_unknown_experiment_lists_nothing_of_the_others(
    xnat: XnatClient, assessor: StoredAssessor
) -> None:
    """XNAT answers an unknown experiment with other experiments' latest entries: none kept."""
    await xnat.add_workflow(_step(assessor, 0, "Queued"))
    assert await xnat.list_workflows("fs7_v1", "NO_SUCH_LABEL", project="P1") == []
