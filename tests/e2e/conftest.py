"""
End-to-end fixtures: the real loopback cluster over SSH (directly, or through the bastion by
the ssh config's alias), driven by PBS commands or natively by Slurm; the XNAT-compatible
server.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from aspider.run.backends import SchedulerBackend
from pbs import BatchClient, PbsClient, SlurmClient, SshSettings, SshTransport, Transport
from tests.conftest import ClusterExtras, ClusterProfile
from tests.engine.conftest import demo_processors, server, xnat

__all__ = [
    "demo_processors",
    "jump_settings",
    "pbs_backend",
    "scheduler_backend",
    "server",
    "slurm_backend",
    "ssh_settings",
    "xnat",
]


@pytest.fixture
def ssh_settings(cluster: ClusterProfile) -> SshSettings:
    return cluster.ssh_settings()


def jump_settings(cluster: ClusterProfile, extras: ClusterExtras) -> SshSettings:
    """The login node by its ssh config alias, which goes through the bastion (ProxyJump)."""
    return SshSettings(
        host=extras.behind_bastion.alias,
        ssh_config=extras.ssh_config,
        known_hosts=cluster.known_hosts,
    )


def client_for(scheduler: str, transport: Transport) -> BatchClient:
    """PBS commands (Slurm's Torque wrappers on the loopback cluster) or Slurm's own."""
    return SlurmClient(transport) if scheduler == "slurm" else PbsClient(transport, "torque")


@pytest.fixture
async def pbs_backend(
    cluster: ClusterProfile, ssh_settings: SshSettings
) -> AsyncIterator[SchedulerBackend]:
    """PBS commands over SSH straight to the cluster's sshd."""
    root = cluster.work_root / f"e2e-{uuid.uuid4().hex[:8]}"
    async with SshTransport(ssh_settings) as transport:
        yield SchedulerBackend(PbsClient(transport, dialect="torque"), str(root))


@pytest.fixture(params=["pbs-direct", "slurm-direct", "pbs-jump", "slurm-jump"])
async def scheduler_backend(
    request: pytest.FixtureRequest, cluster: ClusterProfile
) -> AsyncIterator[SchedulerBackend]:
    """Each scheduler interface over each way in: straight, or through the bastion."""
    scheduler, way = str(request.param).split("-")
    if way == "jump":
        settings = jump_settings(cluster, request.getfixturevalue("extras"))
    else:
        settings = cluster.ssh_settings()
    root = cluster.work_root / f"e2e-{scheduler}-{uuid.uuid4().hex[:8]}"
    async with SshTransport(settings) as transport:
        yield SchedulerBackend(client_for(scheduler, transport), str(root), scheduler)


@pytest.fixture
async def slurm_backend(
    cluster: ClusterProfile, ssh_settings: SshSettings
) -> AsyncIterator[SchedulerBackend]:
    """Slurm's own commands over SSH straight to the cluster's sshd."""
    root = cluster.work_root / f"e2e-slurm-{uuid.uuid4().hex[:8]}"
    async with SshTransport(ssh_settings) as transport:
        yield SchedulerBackend(SlurmClient(transport), str(root), "slurm")
