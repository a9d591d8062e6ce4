"""
`aspider rerun --cancel` (`send_back(cancel=True)`) with the local executor: a running task's
job is cancelled, the task goes back with its history saying so, and the next sweep runs it
again; a job other than the one a person was shown is never cancelled.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from aspider.run import Wiring, read_rerun, send_back
from aspider.run.backends import LocalBackend
from aspider.run.sweep import sweep_project, sweep_until_done
from aspider.settings import AspiderSettings, ClusterSection, XnatSection
from pbs import LocalTransport
from tests.engine.conftest import shell_processor
from xnat_client import Assessor, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio

# Each job runs until the test lets it go (a file `go` beside the job directories).
WAITS_FOR_GO = """|
    echo {assessor} >> "$JOBDIR/../runs.log"
    while [ ! -e "$JOBDIR/../go" ]; do sleep 0.1; done
    wc -c < "$INDIR/t1.nii.gz" > "$OUTDIR/out.txt"
"""


@pytest.fixture
async def local_backend(tmp_path: Path) -> AsyncIterator[LocalBackend]:
    """Local jobs under tmp_path/work, every one let go (and so ended) when the test ends."""
    work = tmp_path / "work"
    async with LocalTransport() as transport:
        try:
            yield LocalBackend(transport, str(work))
        finally:
            work.mkdir(parents=True, exist_ok=True)
            (work / "go").touch()


def _settings(work: str) -> AspiderSettings:
    xnat = XnatSection.model_validate(
        {"url": "http://xnat.test", "user": "admin", "password": "admin"}
    )
    cluster = ClusterSection(executor="local", work_root=work)
    return AspiderSettings(xnat=xnat, cluster=cluster)


async def _running(xnat: XnatClient, backend: LocalBackend) -> dict[str, Assessor]:
    """Session label -> assessor, once every task's job has started."""
    snapshot = await xnat.project_snapshot("P1")
    found = dict(snapshot.every_assessor())
    with anyio.fail_after(30):
        while True:
            seen = await backend.observe({a.label: a.jobid for a in found.values()})
            if all(o.started is not None for o in seen.values()):
                return found
            await anyio.sleep(0.1)


async def _ended(backend: LocalBackend, task: Assessor) -> None:
    """Until the task's job has stopped."""
    with anyio.fail_after(30):
        while True:
            seen = (await backend.observe({task.label: task.jobid}))[task.label]
            if seen.scheduler_state not in ("queued", "running"):
                return
            await anyio.sleep(0.1)


async def test_rerun_cancel_stops_a_running_job_and_the_task_runs_again(
    server: XnatServer, xnat: XnatClient, local_backend: LocalBackend, tmp_path: Path
) -> None:
    """Of two running tasks, the one sent back with cancel has its job stopped (the other runs
    on), its history names the job cancelled, and the next sweeps run it again to COMPLETE."""
    waits = shell_processor(tmp_path / "processors", "waits", WAITS_FOR_GO)
    generate_project(server, "P1", sessions=2, assessors_per_session=0, seed=3)
    settings = _settings(str(local_backend.work_root))
    wiring = Wiring(httpx.ASGITransport(app=server.app))
    await sweep_project(xnat, local_backend, "P1", [waits])
    running = await _running(xnat, local_backend)
    (session, target), (_, other) = sorted(running.items())
    args = (settings, "P1", {"waits_v1"}, [], [session])
    preview = await read_rerun(*args, cancel=True, wiring=wiring)
    assert ([target.label], [target.jobid]) == (preview.sent_back, preview.cancelled_jobs)
    done = await send_back(*args, only=preview.confirmed, cancel=True, wiring=wiring)
    assert ([target.label], [target.jobid]) == (done.sent_back, done.cancelled_jobs)
    await _ended(local_backend, target)
    seen = await local_backend.observe({other.label: other.jobid})
    assert seen[other.label].scheduler_state == "running"
    said = (await xnat.list_workflows("waits_v1", target.id))[-1].step_description
    expected = (
        f"rerun requested by admin: aspider rerun --cancel (was JOB_RUNNING; "
        f"job {target.jobid} cancelled)"
    )
    assert expected == said
    (Path(str(local_backend.work_root)) / "go").touch()
    with anyio.fail_after(60):
        await sweep_until_done(xnat, local_backend, "P1", [waits], interval=0.2)
    after = dict((await xnat.project_snapshot("P1")).every_assessor())
    assert {s: a.procstatus for s, a in after.items()} == dict.fromkeys(after, "COMPLETE")
    assert after[session].jobid != target.jobid  # a job of its own, submitted again
    runs = (Path(str(local_backend.work_root)) / "runs.log").read_text().split()
    assert sorted(runs) == sorted([target.label, target.label, other.label])


async def test_rerun_cancel_leaves_a_task_whose_job_is_not_the_one_shown(
    server: XnatServer, xnat: XnatClient, local_backend: LocalBackend, tmp_path: Path
) -> None:
    """The job shown was another (the task was resubmitted since): nothing is cancelled, the
    task is left alone and its job runs on."""
    waits = shell_processor(tmp_path / "processors", "waits", WAITS_FOR_GO)
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=3)
    settings = _settings(str(local_backend.work_root))
    wiring = Wiring(httpx.ASGITransport(app=server.app))
    await sweep_project(xnat, local_backend, "P1", [waits])
    ((_, task),) = (await _running(xnat, local_backend)).items()
    shown = {task.label: "999999999.local"}
    args = (settings, "P1", {"waits_v1"}, [], [])
    done = await send_back(*args, only=shown, cancel=True, wiring=wiring)
    assert ([], [], [task.label]) == (done.sent_back, done.cancelled_jobs, done.left_running)
    seen = await local_backend.observe({task.label: task.jobid})
    assert seen[task.label].scheduler_state == "running"
    assert server.store.experiments[task.id].fields["procstatus"] == "JOB_RUNNING"
