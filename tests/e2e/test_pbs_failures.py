"""Failures on the real loopback cluster (PBS commands over verified SSH), not only locally."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import anyio
import pytest

from aspider.plan import note_text, read_made_from
from aspider.run.backends import SchedulerBackend
from aspider.run.sweep import SweepOptions, sweep_project, sweep_until_done
from tests.engine.conftest import shell_processor
from tests.engine.test_faults import COUNTING_SCRIPT
from xnat_client import Assessor, ResourceRef, Session, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


def _ours(sessions: Sequence[Session], proctype: str) -> list[Assessor]:
    return [a for s in sessions for a in s.assessors if a.proctype == proctype]


async def test_failing_and_output_less_jobs_are_job_failed_with_reason_and_outlog(
    server: XnatServer, xnat: XnatClient, pbs_backend: SchedulerBackend, tmp_path: Path
) -> None:
    """Exit 3 and exit 0 without outputs, through qsub: JOB_FAILED, each reason, job.log kept."""
    folder = tmp_path / "processors"
    broken = shell_processor(folder, "broken", "'echo disk on fire >&2; exit 3'")
    lazy = shell_processor(folder, "lazy", "'echo did nothing'")
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=5)
    with anyio.fail_after(180):
        await sweep_until_done(xnat, pbs_backend, "P1", [broken, lazy], interval=1, max_sweeps=90)
    sessions = (await xnat.project_snapshot("P1")).sessions
    (failed,) = _ours(sessions, "broken_v1")
    (empty,) = _ours(sessions, "lazy_v1")
    assert failed.procstatus == "JOB_FAILED"
    assert "exited with code 3" in failed.note
    assert "disk on fire" in failed.note
    assert empty.procstatus == "JOB_FAILED"
    assert "wrote none of the declared outputs" in empty.note
    for a in (failed, empty):
        assert a.jobid.isdigit()
        assert a.resources == ("OUTLOG",)
        files = await xnat.list_files(ResourceRef.assessor_output(a.session_id, a.id, "OUTLOG"))
        assert [f.name for f in files] == ["job.log"]


async def test_flaky_xnat_over_ssh_ends_complete_with_one_job_per_task(
    server: XnatServer, xnat: XnatClient, pbs_backend: SchedulerBackend, tmp_path: Path
) -> None:
    """10% of requests answered 503 while jobs go through qsub: all COMPLETE, each ran once."""
    counting = shell_processor(tmp_path / "processors", "counting", COUNTING_SCRIPT)
    generate_project(server, "P1", sessions=4, assessors_per_session=0, seed=2)
    server.faults.error_statuses = (503,)
    server.faults.reseed(4321)
    server.faults.error_rate = 0.10
    with anyio.fail_after(240):
        await sweep_until_done(xnat, pbs_backend, "P1", [counting], interval=1, max_sweeps=120)
    server.faults.clear()
    ours = _ours((await xnat.project_snapshot("P1")).sessions, "counting_v1")
    assert len(ours) == 4
    assert {a.procstatus for a in ours} == {"COMPLETE"}, [a.note for a in ours]
    runs_log = Path(str(pbs_backend.work_root)) / "runs.log"
    assert Counter(runs_log.read_text().split()) == Counter({a.label: 1 for a in ours})
    assert any(r.fault for r in server.requests)


async def test_upload_cut_half_way_over_ssh_is_not_complete_then_completes(
    server: XnatServer, xnat: XnatClient, pbs_backend: SchedulerBackend, tmp_path: Path
) -> None:
    """The output's upload from the cluster's job directory is dropped: UPLOADING, then COMPLETE."""
    counting = shell_processor(tmp_path / "processors", "counting", COUNTING_SCRIPT)
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=2)
    server.faults.path_pattern = r"/out/resources/STATS/files/out\.txt$"
    server.faults.inject("drop", count=1)
    with anyio.fail_after(180):
        while True:  # sweep until the job has ended and its finalize was attempted
            report = await sweep_project(xnat, pbs_backend, "P1", [counting], SweepOptions())
            if any(a.kind == "finalize" for a in report.plan.actions()):
                break
            await anyio.sleep(0.5)
        (a,) = _ours((await xnat.project_snapshot("P1")).sessions, "counting_v1")
        assert a.procstatus == "UPLOADING"
        assert "upload of outputs failed" in a.note
        await sweep_project(xnat, pbs_backend, "P1", [counting], SweepOptions())
    (a,) = _ours((await xnat.project_snapshot("P1")).sessions, "counting_v1")
    assert (a.procstatus, note_text(a.note)) == ("COMPLETE", "")  # the records alone
    assert read_made_from(a.note) is not None
    assert sorted(a.resources) == ["OUTLOG", "STATS"]  # OUTLOG: the provenance record
    runs_log = Path(str(pbs_backend.work_root)) / "runs.log"
    assert Counter(runs_log.read_text().split()) == Counter({a.label: 1})
