"""End-to-end fixtures: the real loopback cluster over SSH, the XNAT-compatible server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from aspider.run.backends import PbsBackend
from pbs import PbsClient, SshSettings, SshTransport
from tests.conftest import ClusterProfile
from tests.engine.conftest import demo_processors, server, xnat

__all__ = ["demo_processors", "pbs_backend", "server", "ssh_settings", "xnat"]


@pytest.fixture
def ssh_settings(cluster: ClusterProfile) -> SshSettings:
    return cluster.ssh_settings()


@pytest.fixture
async def pbs_backend(
    cluster: ClusterProfile, ssh_settings: SshSettings
) -> AsyncIterator[PbsBackend]:
    root = cluster.work_root / f"e2e-{uuid.uuid4().hex[:8]}"
    async with SshTransport(ssh_settings) as transport:
        yield PbsBackend(PbsClient(transport, dialect="torque"), str(root))
