"""The project lease: one sweep at a time per project, kept in XNAT or in the work root."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from aspider import LeaseHeld, LeaseLost
from aspider.run.lease.holder import LeaseRecord, LeaseStore, ProjectLease, project_lease
from aspider.run.lease.in_work_root import FileLeaseStore
from aspider.run.lease.in_xnat import XnatLeaseStore, XnatOrFilesLeaseStore
from pbs import LocalTransport, SshTransport, Transport
from tests.conftest import ClusterProfile
from xnat_client import XnatClient
from xnat_client.sandbox import XnatServer

pytestmark = pytest.mark.anyio

Stores = Callable[[str], LeaseStore]


@pytest.fixture(params=["xnat", "work root"])
async def stores(
    request: pytest.FixtureRequest, tmp_path: Path, server: XnatServer, xnat: XnatClient
) -> AsyncIterator[Stores]:
    """The same lease rules wherever it is kept: a store per project, in XNAT or on disk."""
    for project in ("P1", "P2"):
        server.store.add_project(project)
    async with LocalTransport() as files:
        if request.param == "xnat":
            yield lambda project: XnatLeaseStore(xnat, project)
        else:
            yield lambda project: FileLeaseStore(files, str(tmp_path), project)


def lease(store: LeaseStore, project: str = "P1", **kw: Any) -> ProjectLease:
    return ProjectLease(store, project, **kw)


def on_disk(files: Transport, root: str, project: str = "P1", **kw: Any) -> ProjectLease:
    return ProjectLease(FileLeaseStore(files, root, project), project, **kw)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_second_sweep_is_refused_while_the_first_holds_the_lease(stores: Stores) -> None:
    """A live lease makes a second contender fail with who holds it."""
    first = lease(stores("P1"), owner="nightly")
    await first.acquire()
    with pytest.raises(LeaseHeld, match="nightly"):
        await lease(stores("P1"), owner="laptop").acquire()


async def test_leases_of_different_projects_do_not_interfere(stores: Stores) -> None:
    """Each project has its own lease."""
    await lease(stores("P1")).acquire()
    await lease(stores("P2"), "P2").acquire()


async def test_released_lease_can_be_taken_again(stores: Stores) -> None:
    """Release frees the project at once."""
    first = lease(stores("P1"))
    await first.acquire()
    await first.release()
    again = lease(stores("P1"), owner="next")
    await again.acquire()
    record = await stores("P1").read()
    assert record is not None
    assert record.owner == "next"


async def test_stale_lease_is_taken_over_and_its_owner_learns_it_lost(stores: Stores) -> None:
    """An expired lease (its owner died) is taken over; the old owner's renew raises LeaseLost."""
    clock = Clock()
    dead = lease(stores("P1"), ttl=60, owner="dead", clock=clock)
    await dead.acquire()
    clock.now += 61
    heir = lease(stores("P1"), ttl=60, owner="heir", clock=clock)
    await heir.acquire()
    with pytest.raises(LeaseLost):
        await dead.renew()
    await heir.renew()


async def test_renew_pushes_the_expiry_forward(stores: Stores) -> None:
    """A heartbeat keeps a long sweep's lease alive past its first ttl."""
    clock = Clock()
    held = lease(stores("P1"), ttl=60, clock=clock)
    await held.acquire()
    clock.now += 50
    await held.renew()
    clock.now += 50
    with pytest.raises(LeaseHeld):
        await lease(stores("P1"), ttl=60, clock=clock).acquire()


async def test_concurrent_contenders_exactly_one_wins(stores: Stores) -> None:
    """Many simultaneous acquirers: exactly one holds the lease."""
    winners: list[str] = []

    async def contend(i: int) -> None:
        try:
            await lease(stores("P1"), owner=f"c{i}").acquire()
        except LeaseHeld:
            return
        winners.append(f"c{i}")

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(contend, i)
    assert len(winners) == 1


async def test_project_lease_context_releases_on_exit(stores: Stores) -> None:
    """The context manager holds the lease for its body and frees it afterwards."""
    async with project_lease(stores("P1"), "P1", ttl=30):
        with pytest.raises(LeaseHeld):
            await lease(stores("P1")).acquire()
    await lease(stores("P1")).acquire()


async def test_leases_in_the_work_root_are_directories_per_project(tmp_path: Path) -> None:
    """On disk each project's lease is its own directory."""
    async with LocalTransport() as files:
        await on_disk(files, str(tmp_path), "P1").acquire()
        await on_disk(files, str(tmp_path), "P2").acquire()
        held = sorted(p.name for p in (tmp_path / ".aspider" / "leases").iterdir())
        assert held == ["P1", "P2"]


def test_hostile_project_id_cannot_name_a_lease_path() -> None:
    """A project id with a slash or dots is rejected before any file operation."""
    for bad in ("../etc", "a/b", "..", ""):
        with pytest.raises(ValueError, match="lease"):
            FileLeaseStore(LocalTransport(), "/tmp", bad)


async def test_a_lease_xnat_refuses_is_kept_in_the_work_root_with_one_warning(
    server: XnatServer, xnat: XnatClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """403 on the lease file: the work root keeps it, sweeps there are still kept apart."""
    server.store.add_project("P1")
    server.faults.path_pattern = r"/resources/aspider_lease/"
    server.faults.inject("error", count=1, status=403)
    async with LocalTransport() as files:

        def store() -> XnatOrFilesLeaseStore:
            return XnatOrFilesLeaseStore(
                XnatLeaseStore(xnat, "P1"), FileLeaseStore(files, str(tmp_path), "P1")
            )

        await lease(store(), owner="first").acquire()
        assert (tmp_path / ".aspider" / "leases" / "P1" / "lease.json").exists()
        server.faults.inject("error", count=1, status=403)
        with pytest.raises(LeaseHeld, match="first"):
            await lease(store(), owner="second").acquire()
    assert sum("refuses this account" in r.getMessage() for r in caplog.records) == 2


@pytest.mark.cluster
async def test_lease_over_ssh_refuses_a_second_holder(cluster: ClusterProfile) -> None:
    """The same lease works in the cluster work root over SFTP."""
    settings = cluster.ssh_settings()
    root = str(cluster.work_root / "lease-test")
    with anyio.fail_after(60):
        async with SshTransport(settings) as files:
            await files.remove(root)
            first = on_disk(files, root, owner="ssh-one")
            await first.acquire()
            with pytest.raises(LeaseHeld, match="ssh-one"):
                await on_disk(files, root).acquire()
            await first.release()
            await on_disk(files, root).acquire()
            await files.remove(root)


@pytest.mark.cluster
async def test_stale_lease_over_ssh_is_taken_over_from_a_second_connection(
    cluster: ClusterProfile,
) -> None:
    """Two hosts' view: the expired lease of one connection is taken over by another."""
    settings = cluster.ssh_settings()
    root = str(cluster.work_root / "lease-stale-test")
    clock = Clock()
    with anyio.fail_after(60):
        async with SshTransport(settings) as one, SshTransport(settings) as two:
            await one.remove(root)
            dead = on_disk(one, root, ttl=60, owner="nightly-host:1", clock=clock)
            await dead.acquire()
            clock.now += 61
            heir = on_disk(two, root, ttl=60, owner="laptop:2", clock=clock)
            await heir.acquire()
            with pytest.raises(LeaseLost):
                await dead.renew()
            record = LeaseRecord.from_bytes(
                await two.read_bytes(f"{root}/.aspider/leases/P1/lease.json")
            )
            assert record.owner == "laptop:2"
            await heir.release()
            await one.remove(root)


async def test_lease_of_a_dead_process_on_this_host_is_taken_at_once(stores: Stores) -> None:
    """A crashed sweep on the same host (its pid gone) does not block the rerun until expiry."""
    import socket

    dead_pid = 2**22 + 12345  # above the kernel's largest pid: no such process
    owner = f"{socket.gethostname()}:{dead_pid}"
    await lease(stores("P1"), owner=owner).acquire()
    heir = lease(stores("P1"), owner="heir")
    await heir.acquire()
    await heir.renew()
