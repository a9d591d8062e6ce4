"""Faults on the way: a flaky XNAT, an upload cut half-way, a second sweep at the same time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import anyio
import pytest

from aspider import LeaseHeld
from aspider.plan import note_text, read_made_from
from aspider.processors import Processor
from aspider.run.backends import LocalBackend
from aspider.run.sweep import SweepOptions, sweep_project, sweep_until_done
from pbs import HELD_MARKER, JobSpec, JobTemplate, LocalTransport
from tests.engine.conftest import shell_processor
from xnat_client import Assessor, AssessorFields, NotFound, Session, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio

# Every run leaves a line in <work root>/runs.log, so a test can count the submissions that
# really ran, whatever XNAT says.
COUNTING_SCRIPT = """|
    echo {assessor} >> "$JOBDIR/../runs.log"
    wc -c < "$INDIR/t1.nii.gz" > "$OUTDIR/out.txt"
"""


@pytest.fixture
def counting(tmp_path: Path) -> Processor:
    return shell_processor(tmp_path / "processors", "counting", COUNTING_SCRIPT)


def _assessors(sessions: Sequence[Session]) -> list[Assessor]:
    return [a for s in sessions for a in s.assessors]


def _runs(root: Path) -> Counter[str]:
    log = root / "runs.log"
    return Counter(log.read_text().split()) if log.exists() else Counter()


async def _loop(xnat: XnatClient, root: Path, procs: list[Processor], sweeps: int = 40) -> None:
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(root))
        await sweep_until_done(xnat, backend, "P1", procs, interval=0.2, max_sweeps=sweeps)


async def test_flaky_xnat_reaches_the_same_state_without_duplicates(
    server: XnatServer, xnat: XnatClient, counting: Processor, tmp_path: Path
) -> None:
    """10% of requests answered 503: every task still ends COMPLETE, each job ran once."""
    generate_project(server, "P1", sessions=6, assessors_per_session=0, seed=2)
    server.faults.error_statuses = (503,)
    server.faults.reseed(1234)
    server.faults.error_rate = 0.10
    root = tmp_path / "work"
    with anyio.fail_after(120):
        await _loop(xnat, root, [counting], sweeps=60)
    server.faults.clear()
    ours = _assessors((await xnat.project_snapshot("P1")).sessions)
    assert len(ours) == 6
    assert {a.procstatus for a in ours} == {"COMPLETE"}, [a.note for a in ours]
    assert _runs(root) == Counter({a.label: 1 for a in ours})
    assert any(r.fault for r in server.requests)  # the faults did happen


async def test_upload_cut_half_way_is_not_complete_then_completes_next_sweep(
    server: XnatServer, xnat: XnatClient, counting: Processor, tmp_path: Path
) -> None:
    """A dropped output upload leaves UPLOADING with the reason; the next sweep completes it."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=2)
    root = tmp_path / "work"
    server.faults.path_pattern = r"/out/resources/STATS/files/out\.txt$"
    server.faults.inject("drop", count=1)
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(root))
        with anyio.fail_after(60):
            while True:  # sweep until the job has ended and its finalize was attempted
                report = await sweep_project(xnat, backend, "P1", [counting], SweepOptions())
                if any(a.kind == "finalize" for a in report.plan.actions()):
                    break
                await anyio.sleep(0.2)
        (a,) = _assessors((await xnat.project_snapshot("P1")).sessions)
        assert a.procstatus == "UPLOADING"
        assert "upload of outputs failed" in a.note
        await sweep_project(xnat, backend, "P1", [counting], SweepOptions())
    (a,) = _assessors((await xnat.project_snapshot("P1")).sessions)
    assert (a.procstatus, note_text(a.note)) == ("COMPLETE", "")  # the records alone
    assert read_made_from(a.note) is not None
    assert sorted(a.resources) == ["OUTLOG", "STATS"]  # OUTLOG: the provenance record
    assert _runs(root) == Counter({a.label: 1})


async def test_a_second_sweep_of_the_same_project_is_refused_while_one_runs(
    server: XnatServer, xnat: XnatClient, counting: Processor, tmp_path: Path
) -> None:
    """Two sweeps at once: one runs, the other is refused by the lease; each job runs once."""
    generate_project(server, "P1", sessions=4, assessors_per_session=0, seed=2)
    root = tmp_path / "work"
    server.latency = 0.01  # keep the first sweep busy while the second arrives
    outcomes: list[str] = []

    async def one() -> None:
        try:
            await _loop(xnat, root, [counting], sweeps=40)
            outcomes.append("ran")
        except* LeaseHeld:
            outcomes.append("refused")

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            tg.start_soon(one)
            tg.start_soon(one)
    assert sorted(outcomes) == ["ran", "refused"]
    ours = _assessors((await xnat.project_snapshot("P1")).sessions)
    assert {a.procstatus for a in ours} == {"COMPLETE"}
    assert _runs(root) == Counter({a.label: 1 for a in ours})


async def test_a_session_whose_inputs_cannot_be_staged_does_not_stop_the_others(
    server: XnatServer, xnat: XnatClient, counting: Processor, tmp_path: Path
) -> None:
    """Staging fails for one session: its task records why and waits; the others complete."""
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=2)
    first = min(server.store.sessions_of("P1"), key=lambda s: s.label)
    server.faults.path_pattern = rf"^/data/experiments/{first.id}/scans/1/resources/NIFTI/files"
    server.faults.inject("error", count=1000, status=503)
    root = tmp_path / "work"
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(root))
        with anyio.fail_after(60):
            await sweep_until_done(xnat, backend, "P1", [counting], interval=0.2, max_sweeps=10)
    server.faults.clear()
    by_session = {s.label: s.assessors[0] for s in (await xnat.project_snapshot("P1")).sessions}
    blocked = by_session.pop(first.label)
    assert blocked.procstatus == "NEED_TO_RUN"
    assert "staging inputs failed" in blocked.note
    assert {a.procstatus for a in by_session.values()} == {"COMPLETE"}
    assert _runs(root) == Counter({a.label: 1 for a in by_session.values()})


async def test_an_xnat_error_during_a_sweep_reaches_the_caller_as_itself(
    server: XnatServer, xnat: XnatClient, counting: Processor, tmp_path: Path
) -> None:
    """A missing project raises NotFound (not an exception group), and the lease is freed."""
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(tmp_path))
        with anyio.fail_after(30), pytest.raises(NotFound):
            await sweep_project(xnat, backend, "NOPE", [counting], SweepOptions())
        assert not (tmp_path / ".aspider" / "leases" / "NOPE").exists()


async def test_qc_rerun_removes_the_outputs_and_runs_the_task_again(
    server: XnatServer, xnat: XnatClient, counting: Processor, tmp_path: Path
) -> None:
    """QC set to Rerun on a COMPLETE task: outputs removed, job run a second time, COMPLETE."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=2)
    root = tmp_path / "work"
    with anyio.fail_after(60):
        await _loop(xnat, root, [counting])
    (done,) = _assessors((await xnat.project_snapshot("P1")).sessions)
    assert (done.procstatus, sorted(done.resources)) == ("COMPLETE", ["OUTLOG", "STATS"])
    await xnat.update_assessor(done.session_id, done.id, AssessorFields(qcstatus="Rerun"))
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(root))
        first = await sweep_project(xnat, backend, "P1", [counting], SweepOptions())
    assert [a.kind for a in first.plan.actions()] == ["rerun", "submit"]
    (sent_back,) = _assessors((await xnat.project_snapshot("P1")).sessions)
    assert sent_back.procstatus == "JOB_RUNNING"
    assert sent_back.resources == ()  # the old outputs went before the job was submitted again
    with anyio.fail_after(60):
        await _loop(xnat, root, [counting])
    (again,) = _assessors((await xnat.project_snapshot("P1")).sessions)
    assert (again.procstatus, again.qcstatus) == ("COMPLETE", "Needs QA")
    assert sorted(again.resources) == ["OUTLOG", "STATS"]
    assert _runs(root) == Counter({again.label: 2})


class _Crash(BaseException):
    """The engine dying: nothing after it runs, no handler records anything."""


class CrashAfterLaunch(LocalBackend):
    """Starts the job held, then the engine 'dies' before XNAT has a record of it."""

    launched = ""

    async def submit(self, spec: JobSpec, template: JobTemplate | None = None) -> str:
        CrashAfterLaunch.launched = await super().submit(spec, template)
        raise _Crash


async def test_engine_killed_after_a_local_launch_then_rerun_runs_each_job_once(
    server: XnatServer, xnat: XnatClient, counting: Processor, tmp_path: Path
) -> None:
    """The job is submitted held, XNAT has no record yet: it never starts on its own, and the
    next sweep adopts it (recorded, released) instead of submitting a second one."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=2)
    root = tmp_path / "work"
    async with LocalTransport() as transport:
        with pytest.raises(_Crash):
            await sweep_project(
                xnat, CrashAfterLaunch(transport, str(root)), "P1", [counting], SweepOptions()
            )
    assert _assessors((await xnat.project_snapshot("P1")).sessions) == []
    (marker,) = root.glob(f"*/{HELD_MARKER}")
    assert marker.read_text().strip() == CrashAfterLaunch.launched
    assert not _runs(root)  # held: it has not run
    with anyio.fail_after(60):
        await _loop(xnat, root, [counting])
    (done,) = _assessors((await xnat.project_snapshot("P1")).sessions)
    assert done.procstatus == "COMPLETE", done.note
    assert done.jobid == CrashAfterLaunch.launched
    assert not marker.exists()
    assert _runs(root) == Counter({done.label: 1})
