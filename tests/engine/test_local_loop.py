"""The whole loop on the local backend: from nothing to every task COMPLETE, and the failures."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import anyio
import pytest

from aspider.plan.retry import read_attempts
from aspider.processors import Processor, load_processors
from aspider.run.backends import LocalBackend
from aspider.run.sweep import SweepOptions, sweep_project, sweep_until_done
from pbs import LocalTransport
from tests.engine.conftest import shell_processor
from xnat_client import Assessor, ResourceRef, Session, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio


def _by_proctype(sessions: Sequence[Session], proctype: str) -> list[Assessor]:
    return [a for s in sessions for a in s.assessors if a.proctype == proctype]


def _entries(path: Path) -> list[Path]:
    return sorted(path.iterdir())


async def test_demo_processors_run_to_complete_with_verified_outputs(
    server: XnatServer, xnat: XnatClient, demo_processors: list[Processor], tmp_path: Path
) -> None:
    """Every session gets imgstats and a report, COMPLETE, with outputs and logs in XNAT."""
    generate_project(server, "P1", sessions=4, assessors_per_session=0, seed=3)
    with anyio.fail_after(120):
        async with LocalTransport() as transport:
            backend = LocalBackend(transport, str(tmp_path))
            await sweep_until_done(
                xnat, backend, "P1", demo_processors, SweepOptions(), interval=0.2, max_sweeps=60
            )
    snap = await xnat.project_snapshot("P1")
    stats = _by_proctype(snap.sessions, "imgstats_v1")
    reports = _by_proctype(snap.sessions, "sessreport_v1")
    assert len(stats) == 4
    assert len(reports) == 4
    for a in [*stats, *reports]:
        assert (a.procstatus, a.qcstatus) == ("COMPLETE", "Needs QA"), a.note
    report = reports[0]
    files = await xnat.list_files(
        ResourceRef.assessor_output(report.session_id, report.id, "REPORT")
    )
    assert [f.name for f in files] == ["report.txt"]
    chunks: list[bytes] = []

    async def sink(chunk: bytes) -> None:
        chunks.append(chunk)

    ref = ResourceRef.assessor_output(report.session_id, report.id, "REPORT")
    await xnat.download_file(ref, "report.txt", sink)
    text = b"".join(chunks).decode()
    assert "sha256=" in text
    assert report.session_label in text
    assert _entries(tmp_path) == [tmp_path / ".aspider"]  # job dirs removed after COMPLETE


async def _run_one(
    server: XnatServer, xnat: XnatClient, tmp_path: Path, name: str, script: str
) -> list[Assessor]:
    processor = shell_processor(tmp_path / "processors", name, script)
    tmp_path = tmp_path / "work"
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=5)
    with anyio.fail_after(60):
        async with LocalTransport() as transport:
            backend = LocalBackend(transport, str(tmp_path))
            await sweep_until_done(xnat, backend, "P1", [processor], interval=0.2, max_sweeps=30)
    snap = await xnat.project_snapshot("P1")
    return _by_proctype(snap.sessions, f"{name}_v1")


async def test_failing_command_is_job_failed_with_log_tail_and_outlog(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """Exit 3 -> JOB_FAILED, the reason names the code and the log tail, job.log in OUTLOG."""
    (a,) = await _run_one(server, xnat, tmp_path, "broken", "'echo disk on fire >&2; exit 3'")
    assert a.procstatus == "JOB_FAILED"
    assert "exited with code 3" in a.note
    assert "disk on fire" in a.note
    directory = tmp_path / "work" / a.label
    assert f"; job directory: {directory}; log: " in a.note  # where to look, on the cluster
    assert (directory / "job.log").is_file()
    assert a.resources == ("OUTLOG",)


async def test_a_local_job_s_record_says_the_cpu_it_used(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """No scheduler accounts for a local job: its wrapper's count of CPU seconds is recorded."""
    loop = "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 2: pass"
    script = f'\'python3 -c "exec(\\"{loop}\\")" && echo ok > "$OUTDIR/out.txt"\''
    (a,) = await _run_one(server, xnat, tmp_path, "busy", script)
    assert a.procstatus == "COMPLETE", a.note
    attempts = read_attempts(a.note)
    assert attempts is not None, a.note
    (only,) = attempts.entries
    assert only.used is not None
    assert (only.used.cpu_seconds, only.used.cpus) == (2, 1)


async def test_exit_zero_without_outputs_is_job_failed_no_outputs(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """Exit 0 with no declared output -> JOB_FAILED 'no outputs', never COMPLETE."""
    (a,) = await _run_one(server, xnat, tmp_path, "lazy", "'echo did nothing'")
    assert a.procstatus == "JOB_FAILED"
    assert "wrote none of the declared outputs" in a.note


async def test_failed_job_directory_is_kept_then_pruned_after_its_retention(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """A failed job's directory stays for a person to read, and goes once it is old enough."""
    (a,) = await _run_one(server, xnat, tmp_path, "broken", "'exit 3'")
    work = tmp_path / "work"
    finished = work / a.label / "status" / "finished"
    assert finished.exists()
    await _kept_then_pruned(xnat, tmp_path, a.label)
    assert not (work / a.label).exists()


async def _kept_then_pruned(xnat: XnatClient, tmp_path: Path, label: str) -> None:
    """Retention 1 day: a sweep keeps the failed job's directory; two days on, one prunes it."""
    work = tmp_path / "work"
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(work))
        procs = load_processors([tmp_path / "processors"])
        kept = await sweep_project(xnat, backend, "P1", procs, SweepOptions(keep_failed_days=1))
        assert kept.pruned == []
        _age(work / label, days=2)
        pruned = await sweep_project(xnat, backend, "P1", procs, SweepOptions(keep_failed_days=1))
    assert pruned.pruned == [label]


def _age(directory: Path, days: float) -> None:
    """Make every entry of a job directory look untouched for `days`."""
    then = time.time() - days * 86400
    for path in [*directory.rglob("*"), directory]:
        os.utime(path, (then, then), follow_symlinks=False)


async def test_a_job_killed_outright_is_job_failed_ended_without_an_exit_code(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """SIGKILL to the job's wrapper (untrappable, as the OOM killer sends): no exit code left."""
    (a,) = await _run_one(server, xnat, tmp_path, "killed", "'kill -KILL $$'")
    assert a.procstatus == "JOB_FAILED"
    assert "ended without an exit code (killed by the scheduler?)" in a.note
    work = tmp_path / "work"
    assert not (work / a.label / "status" / "finished").exists()
    await _kept_then_pruned(xnat, tmp_path, a.label)  # no `finished`, still pruned when old


async def test_a_complete_tasks_half_removed_directory_goes_at_the_next_sweep(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """The engine killed while removing a COMPLETE job's directory: the next sweep finishes it."""
    script = "'echo fine > $OUTDIR/out.txt'"
    (a,) = await _run_one(server, xnat, tmp_path, "fine", script)
    assert a.procstatus == "COMPLETE"
    work = tmp_path / "work"
    leftover = work / a.label / "OUTPUTS"
    leftover.mkdir(parents=True)  # what an rm -rf cut short leaves behind
    (leftover / "out.txt").write_text("fine\n")
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(work))
        procs = load_processors([tmp_path / "processors"])
        report = await sweep_project(xnat, backend, "P1", procs, SweepOptions())
    assert report.pruned == [a.label]
    assert not (work / a.label).exists()
