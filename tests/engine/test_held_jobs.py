"""
Held jobs as the local executor runs them (a process stopped until SIGCONT, with its marker),
and what a sweep makes of a marker an earlier run left: release, forget, or adopt.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from aspider.run.backends import LocalBackend
from aspider.run.tasks.held_jobs import settle_held_jobs
from pbs import HELD_MARKER, JobSpec, LocalTransport

pytestmark = pytest.mark.anyio

LABEL = "P-x-S-x-E-x-held_v1-x-0123abcd"  # a label that is its own job name


def _spec(root: Path) -> JobSpec:
    return JobSpec(name=LABEL, job_dir=root / LABEL, command="echo ran > ran.txt", hold=True)


async def _until(path: Path) -> None:
    with anyio.fail_after(30):
        while not await anyio.Path(path).exists():  # noqa: ASYNC110 - another process writes it
            await anyio.sleep(0.05)


async def test_a_held_local_job_waits_until_released(tmp_path: Path) -> None:
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(tmp_path))
        job_id = await backend.submit(_spec(tmp_path))
        marker = tmp_path / LABEL / HELD_MARKER
        assert marker.read_text().strip() == job_id
        assert await backend.held_jobs() == {LABEL: job_id}
        (seen,) = (await backend.observe({LABEL: job_id})).values()
        assert seen.scheduler_state == "queued"  # stopped: held, not running
        await anyio.sleep(0.3)
        assert not (tmp_path / LABEL / "ran.txt").exists()
        await backend.release({LABEL: job_id})
        await _until(tmp_path / LABEL / "ran.txt")
    assert not marker.exists()


async def test_a_held_job_its_assessor_names_is_released(tmp_path: Path) -> None:
    """The record landed, the release did not: the next sweep lets the job go."""
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(tmp_path))
        job_id = await backend.submit(_spec(tmp_path))
        followed = {LABEL: job_id}
        adoptable = await settle_held_jobs(backend, followed, await backend.observe(followed))
        assert adoptable == {}
        await _until(tmp_path / LABEL / "ran.txt")
        assert await backend.held_jobs() == {}


@pytest.mark.parametrize("recorded", [None, "99999.local"], ids=["no-assessor", "older-attempt"])
async def test_a_held_job_no_assessor_names_is_left_for_its_task_to_adopt(
    tmp_path: Path, recorded: str | None
) -> None:
    """Never recorded (no assessor, or one naming an earlier attempt's job): kept held."""
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(tmp_path))
        job_id = await backend.submit(_spec(tmp_path))
        followed = {LABEL: recorded} if recorded else {}
        adoptable = await settle_held_jobs(backend, followed, await backend.observe(followed))
        assert adoptable == {LABEL: job_id}
        (seen,) = (await backend.observe({LABEL: job_id})).values()
        assert seen.scheduler_state == "queued"
        await backend.cancel([job_id])


async def test_a_marker_left_on_a_released_job_is_forgotten(tmp_path: Path) -> None:
    """Released, but the marker stayed (a crash between the two): only the marker goes."""
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(tmp_path))
        job_id = await backend.submit(_spec(tmp_path))
        marker = tmp_path / LABEL / HELD_MARKER
        kept = marker.read_bytes()
        await backend.release({LABEL: job_id})
        await _until(tmp_path / LABEL / "ran.txt")
        marker.write_bytes(kept)
        followed = {LABEL: job_id}
        adoptable = await settle_held_jobs(backend, followed, await backend.observe(followed))
        assert adoptable == {}
        assert not marker.exists()


async def test_a_held_job_whose_task_left_flight_is_cancelled_not_adopted(tmp_path: Path) -> None:
    """Recorded, then sent back (`rerun --cancel`, or NEED_TO_RUN set by hand) before its
    release: no longer followed, the job is cancelled alone and its marker forgotten (the
    task's next submission sends its own); a job no assessor names is still left to adopt."""
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(tmp_path))
        job_id = await backend.submit(_spec(tmp_path))
        unrecorded = _spec(tmp_path).model_copy(
            update={"name": "other", "job_dir": tmp_path / "other"}
        )
        other = await backend.submit(unrecorded)
        adoptable = await settle_held_jobs(backend, {}, {}, {LABEL: job_id})
        assert adoptable == {"other": other}
        (seen,) = (await backend.observe({LABEL: job_id})).values()
        assert seen.scheduler_state == "gone"
        assert await backend.held_jobs() == {"other": other}
        assert not (tmp_path / LABEL / "ran.txt").exists()
        await backend.cancel([other])
