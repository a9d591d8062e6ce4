"""Fixtures for the pbs tests: both transports on the loopback cluster, clients, a job root."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Protocol

import anyio
import pytest

from pbs import (
    TORQUE,
    JobSpec,
    LocalTransport,
    PbsClient,
    SlurmClient,
    SshSettings,
    SshTransport,
    Transport,
)
from tests.conftest import ClusterProfile


def ssh_settings(cluster: ClusterProfile, **overrides: object) -> SshSettings:
    """Settings that reach the loopback cluster's sshd with its key and known_hosts."""
    values: dict[str, object] = {
        "host": cluster.host,
        "port": cluster.port,
        "user": cluster.user,
        "key_path": cluster.key_path,
        "known_hosts": cluster.known_hosts,
        "connect_timeout": 10,
    }
    values.update(overrides)
    return SshSettings.model_validate(values)


def local_transport(cluster: ClusterProfile) -> LocalTransport:
    """A local transport whose commands find the loopback Slurm (sshd sets SLURM_CONF itself)."""
    return LocalTransport(env={"SLURM_CONF": str(cluster.slurm_conf)})


@pytest.fixture(params=["local", "ssh"])
async def transport(
    request: pytest.FixtureRequest, cluster: ClusterProfile
) -> AsyncIterator[Transport]:
    """Each transport, open, against the loopback cluster."""
    opened: LocalTransport | SshTransport
    if request.param == "local":
        opened = local_transport(cluster)
    else:
        opened = SshTransport(ssh_settings(cluster))
    with anyio.fail_after(30):
        await opened.__aenter__()
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest.fixture
def job_root(cluster: ClusterProfile) -> Iterator[Path]:
    """A fresh directory under the profile's work root for this test's jobs."""
    root = cluster.work_root / f"pbs-test-{uuid.uuid4().hex[:8]}"
    root.mkdir(parents=True)
    return root


class Scheduler(Protocol):
    async def submit(self, spec: JobSpec) -> str: ...
    async def delete(self, job_ids: Iterable[str]) -> None: ...


class Jobs:
    """Submits through a client and remembers the ids, so the fixture can delete them all."""

    def __init__(self, client: Scheduler) -> None:
        self.client = client
        self.ids: list[str] = []

    async def submit(self, spec: JobSpec) -> str:
        job_id = await self.client.submit(spec)
        self.ids.append(job_id)
        return job_id


@pytest.fixture
def client(transport: Transport) -> PbsClient:
    """A Torque-dialect client (the loopback wrappers) over each transport."""
    return PbsClient(transport, TORQUE)


@pytest.fixture
async def jobs(client: PbsClient) -> AsyncIterator[Jobs]:
    """Job submission that cleans up: every job submitted through it is deleted afterwards."""
    tracker = Jobs(client)
    try:
        yield tracker
    finally:
        if tracker.ids:
            with anyio.move_on_after(30, shield=True):
                await client.delete(tracker.ids)


@pytest.fixture
def slurm(transport: Transport) -> SlurmClient:
    """A native Slurm client (sbatch, squeue, sacct, scancel) over each transport."""
    return SlurmClient(transport)


@pytest.fixture
async def slurm_jobs(slurm: SlurmClient) -> AsyncIterator[Jobs]:
    """Slurm submission that cleans up: every job submitted through it is cancelled afterwards."""
    tracker = Jobs(slurm)
    try:
        yield tracker
    finally:
        if tracker.ids:
            with anyio.move_on_after(30, shield=True):
                await slurm.delete(tracker.ids)
