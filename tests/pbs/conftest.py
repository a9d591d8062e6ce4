"""Fixtures for the pbs tests: both transports on the loopback cluster, clients, a job root."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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


@dataclass(frozen=True)
class Hop:
    """One sshd of the loopback cluster as the ssh config names it."""

    alias: str
    host: str
    port: int
    host_key: str


@dataclass(frozen=True)
class ClusterExtras:
    """What tests/cluster/up adds for the Slurm and jump-host tests."""

    ssh_config: Path
    bastion: Hop
    behind_bastion: Hop
    accounting: bool
    memory_enforcement: str


def _hop(raw: dict[str, Any]) -> Hop:
    return Hop(raw["alias"], raw["host"], int(raw["port"]), raw["host_key"])


@pytest.fixture(scope="session")
def extras(cluster: ClusterProfile) -> ClusterExtras:
    """The bastion, the login node behind it, the ssh config; fails if up did not write them."""
    raw = json.loads((cluster.cluster_dir / "profile.json").read_text())
    missing = {"ssh_config", "bastion", "behind_bastion"} - raw.keys()
    if missing:
        pytest.fail(
            f"profile.json lacks {sorted(missing)}: tests/cluster/up could not start the "
            "bastion (see its warnings; it needs network namespaces, `unshare --net`)"
        )
    return ClusterExtras(
        ssh_config=Path(raw["ssh_config"]),
        bastion=_hop(raw["bastion"]),
        behind_bastion=_hop(raw["behind_bastion"]),
        accounting=bool(raw.get("accounting")),
        memory_enforcement=str(raw.get("memory_enforcement")),
    )


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
