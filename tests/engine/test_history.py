"""Each task's transitions as XNAT workflow entries, in order; a 403 on them stops nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest

from aspider.processors import Processor, load_processors
from aspider.run.backends import LocalBackend
from aspider.run.sweep import SweepOptions, sweep_until_done
from pbs import LocalTransport
from tests.engine.conftest import T1_SHELL_PROCESSOR, shell_processor
from xnat_client import Assessor, Workflow, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio


def _steps(entries: list[Workflow]) -> list[tuple[str, str, str]]:
    """(XNAT status, procstatus, what happened without its details) of each entry."""
    return [(w.status, w.step_id, w.step_description.split(" ", 1)[0]) for w in entries]


async def _sweep(
    xnat: XnatClient, work: Path, processors: list[Processor], options: SweepOptions
) -> None:
    with anyio.fail_after(60):
        async with LocalTransport() as transport:
            backend = LocalBackend(transport, str(work))
            await sweep_until_done(
                xnat, backend, "P1", processors, options, interval=0.1, max_sweeps=40
            )


async def _assessors(xnat: XnatClient, proctype: str) -> list[Assessor]:
    snap = await xnat.project_snapshot("P1")
    return [a for s in snap.sessions for a in s.assessors if a.proctype == proctype]


def _workflow_puts(server: XnatServer) -> int:
    return sum(1 for r in server.requests if r.method == "PUT" and r.path == "/data/workflows")


async def test_a_task_s_life_is_listed_in_order_and_a_rerun_continues_it(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """submitted, then complete saying when it ran; a QC Rerun adds rerun requested, a new run."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=5)
    proc = shell_processor(tmp_path / "procs", "ok", "'echo fine > \"$OUTPUTS/out.txt\"'")
    await _sweep(xnat, tmp_path / "work", [proc], SweepOptions())
    (a,) = await _assessors(xnat, "ok_v1")
    first = await xnat.list_workflows("ok_v1", a.id)
    assert _steps(first) == [
        ("Queued", "JOB_RUNNING", "submitted"),
        ("Complete", "COMPLETE", "complete"),
    ]
    assert first[0].step_description == f"submitted as job {a.jobid}"
    assert first[1].details.startswith("ran ")  # when (and where), in the end's one entry
    assert {(w.experiment_id, w.project, w.data_type) for w in first} == {
        (a.id, "P1", "proc:genProcData")
    }
    assert first[-1].percent_complete == 100.0
    assert _workflow_puts(server) == 2  # one write per step of its life

    server.store.experiments[a.id].fields["validation/status"] = "Rerun"
    await _sweep(xnat, tmp_path / "work", [proc], SweepOptions())
    again = await xnat.list_workflows("ok_v1", a.id)
    assert _steps(again)[:2] == _steps(first)
    assert [s for _, _, s in _steps(again)[2:]] == ["rerun", "submitted", "complete"]
    assert "QC status set to Rerun" in again[2].step_description
    assert [w.workflow_id for w in again] == sorted(w.workflow_id or 0 for w in again)


async def test_a_failure_and_a_wait_are_recorded_with_their_reasons(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """A job that exits 3 ends in a Failed entry naming the code; missing inputs Awaiting Action."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=5)
    bad = shell_processor(tmp_path / "procs", "bad", "'exit 3'")
    folder = tmp_path / "procs"
    waiting = folder / "nofile_v1.0.0.yaml"
    waiting.write_text(T1_SHELL_PROCESSOR.replace("'*.nii.gz'", "'*.mgz'") % "'true'")
    (nofile,) = load_processors([waiting])
    await _sweep(xnat, tmp_path / "work", [bad, nofile], SweepOptions())
    (failed,) = await _assessors(xnat, "bad_v1")
    (blocked,) = await _assessors(xnat, "nofile_v1")
    failed_steps = await xnat.list_workflows("bad_v1", failed.id)
    assert _steps(failed_steps) == [
        ("Queued", "JOB_RUNNING", "submitted"),
        ("Failed", "JOB_FAILED", "failed:"),
    ]
    assert "exited with code 3" in failed_steps[-1].step_description
    (wait,) = await xnat.list_workflows("nofile_v1", blocked.label, project="P1")
    assert (wait.status, wait.step_id) == ("Awaiting Action", "NEED_INPUTS")
    assert wait.step_description.startswith("created, waiting for inputs: ")
    assert blocked.note in wait.step_description + wait.comments


async def test_a_403_on_workflow_entries_warns_once_and_every_task_completes(
    server: XnatServer, xnat: XnatClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An account XNAT keeps from writing entries: one warning, one refused PUT, tasks done."""
    server.workflow_writers = frozenset()
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=5)
    proc = shell_processor(tmp_path / "procs", "ok", "'echo fine > \"$OUTPUTS/out.txt\"'")
    with caplog.at_level(logging.WARNING, logger="aspider.run.records.workflow_history"):
        await _sweep(xnat, tmp_path / "work", [proc], SweepOptions())
    done = await _assessors(xnat, "ok_v1")
    assert [a.procstatus for a in done] == ["COMPLETE"] * 3
    warnings = [r for r in caplog.records if r.name == "aspider.run.records.workflow_history"]
    assert len(warnings) == 1
    assert "xnat.history: false" in warnings[0].getMessage()
    assert _workflow_puts(server) == 1
    assert server.store.workflows == {}


async def test_history_off_writes_no_entry(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """`SweepOptions(history=False)` (xnat.history: false): the tasks run, no entry is sent."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=5)
    proc = shell_processor(tmp_path / "procs", "ok", "'echo fine > \"$OUTPUTS/out.txt\"'")
    await _sweep(xnat, tmp_path / "work", [proc], SweepOptions(history=False))
    assert [a.procstatus for a in await _assessors(xnat, "ok_v1")] == ["COMPLETE"]
    assert _workflow_puts(server) == 0
