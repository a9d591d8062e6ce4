"""LocalBackend's jobs as processes: their session, niceness, environment, collection, cancel."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest

from aspider.plan.actions import JobObservation
from aspider.run.backends import LocalBackend
from pbs import JobSpec, LocalTransport

pytestmark = pytest.mark.anyio

SECRET = "s3cret-not-for-jobs"


def _spec(work_root: Path, name: str, command: str) -> JobSpec:
    return JobSpec(name=name, job_dir=work_root / name, command=command)


def _proc_stat(pid: int) -> list[str]:
    """/proc/<pid>/stat fields after the command name (field 3 onwards)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


async def _until_ended(backend: LocalBackend, label: str, job_id: str) -> JobObservation:
    with anyio.fail_after(30):
        while True:
            obs = (await backend.observe({label: job_id}))[label]
            if obs.exit_code is not None or obs.scheduler_state in ("gone", "completed"):
                return obs
            await anyio.sleep(0.05)


async def test_a_job_runs_detached_at_nice_10_and_is_collected_when_polled(
    tmp_path: Path,
) -> None:
    """Its own session (survives the engine), nice 10, and no zombie once observed ended."""
    release = tmp_path / "release"
    command = f'while [ ! -e {release} ]; do sleep 0.05; done\necho done > "$OUTPUTS/out"'
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(tmp_path / "work"))
        job_id = await backend.submit(_spec(tmp_path / "work", "JOB-x-1", command))
        pid = int(job_id.removesuffix(".local"))
        fields = _proc_stat(pid)
        session, nice = int(fields[3]), int(fields[16])
        assert session == pid
        assert nice == max(10, os.getpriority(os.PRIO_PROCESS, 0))
        pid_file = tmp_path / "work" / "JOB-x-1" / ".local-pid"
        with anyio.fail_after(10):
            while not (pid_file.exists() and pid_file.read_text()):  # noqa: ASYNC110 - the job writes it
                await anyio.sleep(0.01)
        assert pid_file.read_text() == f"{pid}\n"  # written by the job itself, not the engine
        running = (await backend.observe({"JOB-x-1": job_id}))["JOB-x-1"]
        assert running.scheduler_state == "running"
        release.touch()
        obs = await _until_ended(backend, "JOB-x-1", job_id)
        assert obs.exit_code == 0
        await backend.observe({"JOB-x-1": job_id})  # the poll after the end collects it
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # noqa: ASYNC222 - WNOHANG: asks, never waits
    assert (tmp_path / "work" / "JOB-x-1" / "OUTPUTS" / "out").read_text() == "done\n"


async def test_jobs_and_local_commands_do_not_get_the_engines_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ASPIDER_XNAT__PASSWORD in the engine's environment reaches neither a job nor its log."""
    monkeypatch.setenv("ASPIDER_XNAT__PASSWORD", SECRET)
    monkeypatch.setenv("LAB_SETTING", "kept")
    command = 'env > "$OUTPUTS/env.txt"\nenv\nprintf %s "$#" > "$OUTPUTS/argc"'
    async with LocalTransport(withhold=("ASPIDER_",)) as transport:
        backend = LocalBackend(transport, str(tmp_path / "work"))
        job_id = await backend.submit(_spec(tmp_path / "work", "JOB-x-env", command))
        obs = await _until_ended(backend, "JOB-x-env", job_id)
        listed = await transport.run(["env"])
    assert obs.exit_code == 0
    job_dir = tmp_path / "work" / "JOB-x-env"
    seen = (job_dir / "OUTPUTS" / "env.txt").read_text()
    assert "LAB_SETTING=kept" in seen
    assert (job_dir / "OUTPUTS" / "argc").read_text() == "0"  # no arguments, as under qsub
    for text in (seen, (job_dir / "job.log").read_text(), listed.stdout):
        assert SECRET not in text
        assert "ASPIDER_" not in text


async def test_cancel_ends_the_jobs_whole_process_group(tmp_path: Path) -> None:
    """qdel's local twin: the wrapper and its command both go; no exit code, so `gone`."""
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(tmp_path / "work"))
        job_id = await backend.submit(_spec(tmp_path / "work", "JOB-x-long", "sleep 60"))
        started = tmp_path / "work" / "JOB-x-long" / "status" / "started"
        with anyio.fail_after(10):
            while not started.exists():  # noqa: ASYNC110 - a file another process writes
                await anyio.sleep(0.02)
        await backend.cancel([job_id])
        obs = await _until_ended(backend, "JOB-x-long", job_id)
    assert obs.exit_code is None
    assert obs.finished is not None  # the wrapper trapped the TERM and recorded the end
    status = tmp_path / "work" / "JOB-x-long" / "status"
    assert (status / "signal").read_text() == "TERM\n"
