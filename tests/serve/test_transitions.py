"""
The status views' transitions from XNAT's workflow history: each step with the status before
it, read for the tasks changed last only (a bounded number of requests), and by the service
again only for a task that changed; the service's own comparisons fill in for the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest

from aspider.serve.history import STEPS_READ, History, Transition, read_steps, steps_of
from aspider.serve.status import FROM_BOTH, FROM_LAST_CHANGE, FROM_XNAT, project_status
from xnat_client import (
    PROC_XSI_TYPE,
    Assessor,
    AssessorFields,
    Credentials,
    ProjectSnapshot,
    Workflow,
    XnatClient,
)
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio

PROJECT = "PT"
T0 = dt.datetime(2024, 3, 1, 9, 0, 0)
# (procstatus, what happened) of a task created, submitted, and failed
FAILED_STEPS = (
    ("NEED_TO_RUN", "created, ready to run"),
    ("JOB_RUNNING", "submitted as job 11"),
    ("JOB_RUNNING", "job 11 running on n1"),
    ("JOB_FAILED", "failed: job 11 exited with code 3"),
)


def _entry(a: Assessor, n: int, status: str, said: str) -> Workflow:
    """The workflow entry of one step of `a`, `n` minutes after T0, as aspider writes it."""
    moment = T0 + dt.timedelta(minutes=n)
    return Workflow(
        experiment_id=a.id,
        pipeline_name=a.proctype,
        launch_time=moment,
        status="Queued",
        data_type=PROC_XSI_TYPE,
        project=PROJECT,
        step_id=status,
        step_description=said,
        step_launch_time=moment,
    )


@pytest.fixture
def server() -> XnatServer:
    """PT: twelve sessions, one fs_v1 task each, JOB_FAILED, modified a minute apart."""
    srv = XnatServer()
    generate_project(srv, PROJECT, sessions=12, assessors_per_session=0, seed=4)
    for n, session in enumerate(sorted(srv.store.sessions_of(PROJECT), key=lambda s: s.label)):
        when = (T0 + dt.timedelta(hours=n)).strftime("%Y-%m-%d %H:%M:%S.0")
        label = f"{PROJECT}-x-{session.label}-x-fs_v1-x-{n:08x}"
        srv.store.add_assessor(
            session, label, proctype="fs_v1", procstatus="JOB_FAILED", last_modified=when
        )
    return srv


@pytest.fixture
async def xnat(server: XnatServer) -> AsyncIterator[XnatClient]:
    transport = httpx.ASGITransport(app=server.app)
    credentials = Credentials.password("admin", "admin")
    async with XnatClient("http://xnat.test", credentials=credentials, transport=transport) as c:
        yield c


async def _write_history(xnat: XnatClient, snapshot: ProjectSnapshot) -> None:
    """Every task's four entries: created, submitted, running, failed."""
    for _, a in snapshot.every_assessor():
        for n, (status, said) in enumerate(FAILED_STEPS):
            await xnat.add_workflow(_entry(a, n, status, said))


def _history_reads(server: XnatServer) -> int:
    return sum(1 for r in server.requests if r.path.startswith("/data/services/workflows"))


def test_steps_say_the_status_before_each_and_skip_what_changed_nothing() -> None:
    """created -> submitted -> failed, the running entry (no change) left out; a history that
    starts later has no known status before its first step."""
    a = Assessor(id="E1", label="L1", project=PROJECT, session_id="S1", proctype="fs_v1")
    whole = [_entry(a, n, status, said) for n, (status, said) in enumerate(FAILED_STEPS)]
    found = steps_of(whole, a, "MR1")
    assert [(t.before, t.after, t.step) for t in found] == [
        ("", "NEED_TO_RUN", "created, ready to run"),
        ("NEED_TO_RUN", "JOB_RUNNING", "submitted as job 11"),
        ("JOB_RUNNING", "JOB_FAILED", "failed: job 11 exited with code 3"),
    ]
    assert {(t.label, t.session, t.proctype) for t in found} == {("L1", "MR1", "fs_v1")}
    assert found[0].at == T0.astimezone().isoformat(timespec="seconds")
    late = steps_of(whole[3:], a, "MR1")
    assert [(t.before, t.after) for t in late] == [(None, "JOB_FAILED")]


async def test_a_view_reads_the_steps_of_the_tasks_changed_last_only(
    server: XnatServer, xnat: XnatClient
) -> None:
    """Twelve tasks: the ten changed last are read, one request each; each failure's
    transition says it came from JOB_RUNNING."""
    snapshot = await xnat.project_snapshot(PROJECT)
    await _write_history(xnat, snapshot)
    before = _history_reads(server)
    steps = await read_steps(xnat, snapshot)
    assert _history_reads(server) - before == STEPS_READ == 10
    oldest = sorted((a.last_modified, a.label) for _, a in snapshot.every_assessor())[:2]
    assert set(steps) == {a.label for _, a in snapshot.every_assessor()} - {x for _, x in oldest}
    status = project_status(
        snapshot, ["fs_v1"], link_base="x", today=T0.date(), taken_at="now", steps=steps
    )
    assert status.transitions_from == FROM_XNAT
    assert len(status.transitions) == 30  # the page's last thirty
    failures = [t for t in status.transitions if t.after == "JOB_FAILED"]
    assert failures
    assert {t.before for t in failures} == {"JOB_RUNNING"}


async def test_the_service_reads_a_task_again_only_when_it_changed(
    server: XnatServer, xnat: XnatClient
) -> None:
    """A second read of the same snapshot sends nothing; after one task is sent back, one
    request, and its rerun shows as a transition from JOB_FAILED."""
    snapshot = await xnat.project_snapshot(PROJECT)
    await _write_history(xnat, snapshot)
    history = History()
    await history.read_steps(xnat, snapshot)
    first = _history_reads(server)
    await history.read_steps(xnat, snapshot)
    assert _history_reads(server) == first
    session, task = max(snapshot.every_assessor(), key=lambda sa: sa[1].last_modified)
    sent_back = AssessorFields(procstatus="NEED_TO_RUN", note="rerun")
    await xnat.update_assessor(task.session_id, task.id, sent_back)
    await xnat.add_workflow(_entry(task, 9, "NEED_TO_RUN", "rerun requested: by a person"))
    again = await xnat.project_snapshot(PROJECT)
    await history.read_steps(xnat, again)
    assert _history_reads(server) == first + 1
    status = project_status(
        again, ["fs_v1"], link_base="x", today=T0.date(), taken_at="now", history=history
    )
    latest = status.transitions[0]
    assert (latest.label, latest.session, latest.before, latest.after) == (
        task.label,
        session,
        "JOB_FAILED",
        "NEED_TO_RUN",
    )


async def test_the_services_comparisons_fill_in_where_xnat_has_no_steps(
    server: XnatServer, xnat: XnatClient
) -> None:
    """A task with steps in XNAT shows those; one without shows what the service saw; without
    either, each task's last change, its status before unknown."""
    snapshot = await xnat.project_snapshot(PROJECT)
    (_, stepped), (s2, bare) = sorted(
        snapshot.every_assessor(), key=lambda sa: sa[1].last_modified, reverse=True
    )[:2]
    for n, (procstatus, said) in enumerate(FAILED_STEPS):
        await xnat.add_workflow(_entry(stepped, n, procstatus, said))
    history = History()
    await history.read_steps(xnat, snapshot)
    seen_at = (T0 + dt.timedelta(days=1)).astimezone().isoformat(timespec="seconds")
    history.record(
        [
            Transition(seen_at, stepped.label, "fs_v1", "x", "COMPLETE", "JOB_FAILED"),
            Transition(seen_at, bare.label, "fs_v1", s2, "JOB_RUNNING", "JOB_FAILED"),
        ]
    )
    status = project_status(
        snapshot, ["fs_v1"], link_base="x", today=T0.date(), taken_at="now", history=history
    )
    assert status.transitions_from == FROM_BOTH
    shown = [(t.label, t.before, t.after, t.step) for t in status.transitions]
    assert shown[0] == (bare.label, "JOB_RUNNING", "JOB_FAILED", "")
    assert (stepped.label, "COMPLETE", "JOB_FAILED", "") not in shown
    assert next(t for t in shown if t[0] == stepped.label)[1:] == (
        "JOB_RUNNING",
        "JOB_FAILED",
        "failed: job 11 exited with code 3",
    )
    plain = project_status(snapshot, ["fs_v1"], link_base="x", today=T0.date(), taken_at="now")
    assert plain.transitions_from == FROM_LAST_CHANGE
    assert {t.before for t in plain.transitions} == {None}


async def test_an_account_refused_the_history_costs_the_service_one_try(
    server: XnatServer, xnat: XnatClient
) -> None:
    """XNAT answers 403 to the workflow listings: the first read stops at the refusal, the
    next sends nothing, and the page lists each task's last change, its status before unknown."""
    snapshot = await xnat.project_snapshot(PROJECT)
    server.faults.path_pattern = "^/data/services/workflows"
    server.faults.inject("error", 100, status=403)
    history = History()
    await history.read_steps(xnat, snapshot)
    tried = _history_reads(server)
    assert 1 <= tried <= 4  # the reads in flight when the first refusal came back
    await history.read_steps(xnat, snapshot)
    assert _history_reads(server) == tried
    status = project_status(
        snapshot, ["fs_v1"], link_base="x", today=T0.date(), taken_at="now", history=history
    )
    assert status.transitions_from == FROM_LAST_CHANGE
    assert {t.before for t in status.transitions} == {None}
