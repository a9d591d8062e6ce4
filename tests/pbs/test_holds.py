"""
Held submissions on the real loopback cluster, through qsub (the PBS wrappers) and sbatch,
over both transports: the job waits with its marker until released, then runs; the marker goes
only with the release; a marker left on a released job is forgotten.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from pbs import HELD_MARKER, CommandFailed, JobSpec, PbsClient, SlurmClient
from tests.pbs.conftest import Jobs

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


def _held(root: Path, name: str) -> JobSpec:
    return JobSpec(
        name=name,
        job_dir=root / name,
        command='echo ran > "$OUTPUTS/ran.txt"',
        memory_mb=100,
        hold=True,
    )


async def _until(path: Path) -> None:
    with anyio.fail_after(90):
        while not await anyio.Path(path).exists():  # noqa: ASYNC110 - the cluster writes it
            await anyio.sleep(0.3)


Scheduler = PbsClient | SlurmClient


@pytest.fixture(params=["pbs", "slurm"])
def held(
    request: pytest.FixtureRequest,
    client: PbsClient,
    jobs: Jobs,
    slurm: SlurmClient,
    slurm_jobs: Jobs,
) -> tuple[Scheduler, Jobs]:
    """The client (qsub through the PBS wrappers, or sbatch) and its cleaning-up submitter."""
    return (client, jobs) if request.param == "pbs" else (slurm, slurm_jobs)


async def test_a_held_job_waits_for_its_release_then_runs(
    held: tuple[Scheduler, Jobs], job_root: Path
) -> None:
    scheduler, tracker = held
    job_id = await tracker.submit(_held(job_root, "held"))
    marker = job_root / "held" / HELD_MARKER
    assert await scheduler.held_jobs(job_root) == {"held": job_id}
    info = (await scheduler.poll([job_id], [])).by_id[job_id]
    assert info.state.active
    await anyio.sleep(2)  # long enough for an unheld job to start here
    assert not (job_root / "held" / "status" / "started").exists()
    await scheduler.release({"held": job_id}, job_root)
    assert not marker.exists()
    await _until(job_root / "held" / "OUTPUTS" / "ran.txt")
    assert await scheduler.held_jobs(job_root) == {}


async def test_a_failed_release_keeps_the_marker_and_forget_drops_it(
    held: tuple[Scheduler, Jobs], job_root: Path
) -> None:
    """Releasing a job that is no longer held fails and keeps the marker; forget removes it."""
    scheduler, tracker = held
    job_id = await tracker.submit(_held(job_root, "twice"))
    await scheduler.release({"twice": job_id}, job_root)
    await _until(job_root / "twice" / "OUTPUTS" / "ran.txt")
    marker = job_root / "twice" / HELD_MARKER
    marker.write_text(f"{job_id}\n")  # as if the engine died between release and forget
    assert await scheduler.held_jobs(job_root) == {"twice": job_id}
    with pytest.raises(CommandFailed):  # it ran: there is no hold to lift
        await scheduler.release({"twice": job_id}, job_root)
    assert marker.exists()
    await scheduler.forget_held(job_root, ["twice"])
    assert not marker.exists()
