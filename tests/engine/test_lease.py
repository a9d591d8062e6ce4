"""The project lease: one sweep at a time per project, across hosts sharing the work root."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from aspider import LeaseHeld, LeaseLost
from aspider.run.lease import LeaseRecord, ProjectLease, project_lease
from pbs import LocalTransport, SshTransport
from tests.conftest import ClusterProfile

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_second_sweep_is_refused_while_the_first_holds_the_lease(tmp_path: Path) -> None:
    """A live lease makes a second contender fail with who holds it."""
    async with LocalTransport() as files:
        first = ProjectLease(files, str(tmp_path), "P1", owner="nightly")
        await first.acquire()
        second = ProjectLease(files, str(tmp_path), "P1", owner="laptop")
        with pytest.raises(LeaseHeld, match="nightly"):
            await second.acquire()


async def test_leases_of_different_projects_do_not_interfere(tmp_path: Path) -> None:
    """Each project has its own lease."""
    async with LocalTransport() as files:
        await ProjectLease(files, str(tmp_path), "P1").acquire()
        await ProjectLease(files, str(tmp_path), "P2").acquire()
        assert sorted(p.name for p in (tmp_path / ".aspider" / "leases").iterdir()) == [
            "P1",
            "P2",
        ]


async def test_released_lease_can_be_taken_again(tmp_path: Path) -> None:
    """Release frees the project at once."""
    async with LocalTransport() as files:
        first = ProjectLease(files, str(tmp_path), "P1")
        await first.acquire()
        await first.release()
        again = ProjectLease(files, str(tmp_path), "P1", owner="next")
        await again.acquire()
        raw = (tmp_path / ".aspider" / "leases" / "P1" / "lease.json").read_bytes()
        assert LeaseRecord.from_bytes(raw).owner == "next"


async def test_stale_lease_is_taken_over_and_its_owner_learns_it_lost(tmp_path: Path) -> None:
    """An expired lease (its owner died) is taken over; the old owner's renew raises LeaseLost."""
    clock = Clock()
    async with LocalTransport() as files:
        dead = ProjectLease(files, str(tmp_path), "P1", ttl=60, owner="dead", clock=clock)
        await dead.acquire()
        clock.now += 61
        heir = ProjectLease(files, str(tmp_path), "P1", ttl=60, owner="heir", clock=clock)
        await heir.acquire()
        with pytest.raises(LeaseLost):
            await dead.renew()
        await heir.renew()


async def test_renew_pushes_the_expiry_forward(tmp_path: Path) -> None:
    """A heartbeat keeps a long sweep's lease alive past its first ttl."""
    clock = Clock()
    async with LocalTransport() as files:
        lease = ProjectLease(files, str(tmp_path), "P1", ttl=60, clock=clock)
        await lease.acquire()
        clock.now += 50
        await lease.renew()
        clock.now += 50
        other = ProjectLease(files, str(tmp_path), "P1", ttl=60, clock=clock)
        with pytest.raises(LeaseHeld):
            await other.acquire()


async def test_concurrent_contenders_exactly_one_wins(tmp_path: Path) -> None:
    """Many simultaneous acquirers: exactly one holds the lease."""
    winners: list[str] = []
    async with LocalTransport() as files:

        async def contend(i: int) -> None:
            lease = ProjectLease(files, str(tmp_path), "P1", owner=f"c{i}")
            try:
                await lease.acquire()
            except LeaseHeld:
                return
            winners.append(f"c{i}")

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for i in range(20):
                    tg.start_soon(contend, i)
    assert len(winners) == 1


async def test_project_lease_context_releases_on_exit(tmp_path: Path) -> None:
    """The context manager holds the lease for its body and frees it afterwards."""
    async with LocalTransport() as files:
        async with project_lease(files, str(tmp_path), "P1", ttl=30):
            with pytest.raises(LeaseHeld):
                await ProjectLease(files, str(tmp_path), "P1").acquire()
        await ProjectLease(files, str(tmp_path), "P1").acquire()


def test_hostile_project_id_cannot_name_a_lease_path() -> None:
    """A project id with a slash or dots is rejected before any file operation."""
    for bad in ("../etc", "a/b", "..", ""):
        with pytest.raises(ValueError, match="lease"):
            ProjectLease(LocalTransport(), "/tmp", bad)


@pytest.mark.cluster
async def test_lease_over_ssh_refuses_a_second_holder(cluster: ClusterProfile) -> None:
    """The same lease works in the cluster work root over SFTP."""
    settings = cluster.ssh_settings()
    root = str(cluster.work_root / "lease-test")
    with anyio.fail_after(60):
        async with SshTransport(settings) as files:
            await files.remove(root)
            first = ProjectLease(files, root, "P1", owner="ssh-one")
            await first.acquire()
            with pytest.raises(LeaseHeld, match="ssh-one"):
                await ProjectLease(files, root, "P1").acquire()
            await first.release()
            await ProjectLease(files, root, "P1").acquire()
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
            dead = ProjectLease(one, root, "P1", ttl=60, owner="nightly-host:1", clock=clock)
            await dead.acquire()
            clock.now += 61
            heir = ProjectLease(two, root, "P1", ttl=60, owner="laptop:2", clock=clock)
            await heir.acquire()
            with pytest.raises(LeaseLost):
                await dead.renew()
            record = LeaseRecord.from_bytes(
                await two.read_bytes(f"{root}/.aspider/leases/P1/lease.json")
            )
            assert record.owner == "laptop:2"
            await heir.release()
            await one.remove(root)


async def test_lease_of_a_dead_process_on_this_host_is_taken_at_once(tmp_path: Path) -> None:
    """A crashed sweep on the same host (its pid gone) does not block the rerun until expiry."""
    import socket

    dead_pid = 2**22 + 12345  # above the kernel's largest pid: no such process
    owner = f"{socket.gethostname()}:{dead_pid}"
    async with LocalTransport() as files:
        await ProjectLease(files, str(tmp_path), "P1", owner=owner).acquire()
        heir = ProjectLease(files, str(tmp_path), "P1", owner="heir")
        await heir.acquire()
        await heir.renew()
