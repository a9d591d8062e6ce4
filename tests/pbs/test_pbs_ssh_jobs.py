"""Longer job scenarios over SSH only: a walltime kill, and the cost of polling 200 jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from pbs import TORQUE, JobSpec, JobState, PbsClient, SshTransport
from tests.conftest import ClusterProfile
from tests.pbs.conftest import ssh_settings
from tests.pbs.test_pbs_client import final_state, spec

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


@pytest.fixture
async def ssh_client(cluster: ClusterProfile) -> AsyncIterator[PbsClient]:
    """A client over SSH with an explicit dialect (no detection round trip)."""
    async with SshTransport(ssh_settings(cluster)) as transport:
        yield PbsClient(transport, TORQUE)


async def test_walltime_kill_ends_without_exit_code(ssh_client: PbsClient, job_root: Path) -> None:
    """A job over its 1-minute walltime is killed by Slurm: TERM recorded, no exit code."""
    job_id = await ssh_client.submit(spec(job_root, "overtime", "sleep 600", walltime="00:01:00"))
    try:
        state = await final_state(ssh_client, job_root, "overtime", 150)
    finally:
        with anyio.move_on_after(30, shield=True):
            await ssh_client.delete([job_id])
    assert (state.exit_code, state.signal) == (None, "TERM")
    assert state.finished is not None
    assert (await ssh_client.status([job_id]))[job_id].state in (
        JobState.COMPLETED,
        JobState.EXITING,
    )


async def test_poll_of_200_jobs_costs_at_most_3_round_trips(
    ssh_client: PbsClient, job_root: Path
) -> None:
    """200 submitted jobs are polled (status + job dirs) in at most 3 SSH round trips."""
    names = [f"many-{index:03d}" for index in range(200)]
    specs = [spec(job_root, name, "true") for name in names]
    ids: list[str] = []

    async def submit(job: JobSpec) -> None:
        ids.append(await ssh_client.submit(job))

    try:
        with anyio.fail_after(300):
            async with anyio.create_task_group() as group:
                for job in specs:
                    group.start_soon(submit, job)
            before = ssh_client.transport.round_trips
            states = await ssh_client.status(ids)
            dirs = await ssh_client.read_states(job_root, names)
            cost = ssh_client.transport.round_trips - before
    finally:
        with anyio.move_on_after(60, shield=True):
            await ssh_client.delete(ids)
    assert cost <= 3
    assert len(states) == 200
    assert all(info.state is not JobState.GONE for info in states.values())
    assert sorted(dirs) == names
    assert all(state.exists for state in dirs.values())
