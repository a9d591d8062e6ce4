"""
PBS driver benchmark on the loopback cluster: submission throughput over SSH versus qsub run
directly on the same host, and the cost of polling 500 jobs.

    .venv/bin/python -m benchmarks.pbs_bench [--jobs 100] [--poll-jobs 500]

Needs the loopback cluster (tests/cluster/up). Every job it submits is deleted at the end and
its directories removed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from pathlib import Path

import anyio

from pbs import TORQUE, JobSpec, LocalTransport, PbsClient, SshSettings, SshTransport, Transport

REPO = Path(__file__).resolve().parent.parent


def _profile() -> dict[str, str]:
    path = Path(os.environ.get("ASPIDER_CLUSTER_PROFILE", REPO / ".cluster" / "profile.json"))
    return dict(json.loads(path.read_text()))


def _ssh(profile: dict[str, str]) -> SshTransport:
    return SshTransport(
        SshSettings(
            host=profile["host"],
            port=int(profile["port"]),
            user=profile["user"],
            key_path=Path(profile["key_path"]),
            known_hosts=Path(profile["known_hosts"]),
        )
    )


def _local(profile: dict[str, str]) -> LocalTransport:
    return LocalTransport(env={"SLURM_CONF": profile["slurm_conf"]})


async def _submit_all(client: PbsClient, specs: list[JobSpec], ids: list[str]) -> float:
    """Submit concurrently (the transport's limiter bounds it); return the wall time."""

    async def one(spec: JobSpec) -> None:
        ids.append(await client.submit(spec))

    start = time.perf_counter()
    async with anyio.create_task_group() as group:
        for spec in specs:
            group.start_soon(one, spec)
    return time.perf_counter() - start


def _specs(root: Path, prefix: str, count: int) -> list[JobSpec]:
    return [
        JobSpec(
            name=f"{prefix}-{i:04d}",
            job_dir=str(root / f"{prefix}-{i:04d}"),
            command="true",
            walltime="00:05:00",
            memory_mb=50,
        )
        for i in range(count)
    ]


async def _throughput(
    name: str, transport: Transport, root: Path, count: int, ids: list[str]
) -> float:
    client = PbsClient(transport, TORQUE)
    await _submit_all(client, _specs(root, f"warm-{name}", 8), ids)
    seconds = await _submit_all(client, _specs(root, name, count), ids)
    print(f"  {name:>5}: {count} submissions in {seconds:.2f} s = {count / seconds:.1f} jobs/s")
    return seconds


async def _poll_cost(
    name: str, transport: Transport, root: Path, ids: list[str], names: list[str]
) -> None:
    client = PbsClient(transport, TORQUE)
    timings = []
    trips = 0
    for _ in range(5):
        before = transport.round_trips
        start = time.perf_counter()
        await client.status(ids)
        await client.read_states(root, names)
        timings.append(time.perf_counter() - start)
        trips = transport.round_trips - before
    print(
        f"  {name:>5}: poll of {len(ids)} jobs = {trips} round trips, "
        f"median {statistics.median(timings) * 1000:.0f} ms (min {min(timings) * 1000:.0f} ms)"
    )


async def main(jobs: int, poll_jobs: int) -> None:
    profile = _profile()
    root = Path(profile["work_root"]) / f"bench-{uuid.uuid4().hex[:8]}"
    ids: list[str] = []
    async with _local(profile) as local, _ssh(profile) as ssh:
        try:
            print(f"submission throughput ({jobs} trivial jobs each, up to 8 concurrent):")
            local_s = await _throughput("local", local, root, jobs, ids)
            ssh_s = await _throughput("ssh", ssh, root, jobs, ids)
            print(f"  ratio ssh/local: {ssh_s / local_s:.2f}x")
            extra = _specs(root, "poll", max(0, poll_jobs - len(ids)))
            await _submit_all(PbsClient(ssh, TORQUE), extra, ids)
            names = sorted(p.name for p in root.iterdir())[:poll_jobs]
            print(
                f"polling (qstat -f of {len(ids[:poll_jobs])} ids + read_states of {len(names)}):"
            )
            await _poll_cost("ssh", ssh, root, ids[:poll_jobs], names)
            await _poll_cost("local", local, root, ids[:poll_jobs], names)
        finally:
            with anyio.move_on_after(120, shield=True):
                await PbsClient(local, TORQUE).delete(ids)
                await local.remove(root)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--poll-jobs", type=int, default=500)
    arguments = parser.parse_args()
    anyio.run(main, arguments.jobs, arguments.poll_jobs)
