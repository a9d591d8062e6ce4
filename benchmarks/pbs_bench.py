"""
Scheduler driver benchmark on the loopback cluster: submission throughput over SSH versus the
submit command run directly on the same host, the fixed cost of one command, and the cost of
polling 500 jobs, by the PBS (Torque wrapper) client and by the native Slurm client.

    .venv/bin/python -m benchmarks.pbs_bench [--jobs 100] [--rounds 3] [--poll-jobs 500]
        [--scheduler torque|slurm]

SSH is measured twice: with command runners (the default: one login shell per runner) and with
one exec channel per command (`command_runners=False`: one login shell per command); polls are
also measured through the bastion (the ssh config's `aspider-login` alias). Rounds interleave
the transports, rotating which goes first, so that a busy machine or a growing queue does not
favour one of them; medians are reported. `--scheduler` picks the client that submits (qsub
through the wrappers, or sbatch); both clients poll.

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
from typing import Any

import anyio

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

REPO = Path(__file__).resolve().parent.parent


Client = PbsClient | SlurmClient
SCHEDULER = "torque"  # set from --scheduler


def _client(transport: Transport) -> Client:
    return SlurmClient(transport) if SCHEDULER == "slurm" else PbsClient(transport, TORQUE)


def _profile() -> dict[str, Any]:
    path = Path(os.environ.get("ASPIDER_CLUSTER_PROFILE", REPO / ".cluster" / "profile.json"))
    return dict(json.loads(path.read_text()))


def _behind_bastion(profile: dict[str, Any]) -> SshTransport:
    """The login node behind the bastion, by its ssh config alias (ProxyJump)."""
    return SshTransport(
        SshSettings(
            host=profile["behind_bastion"]["alias"],
            ssh_config=Path(profile["ssh_config"]),
            known_hosts=Path(profile["known_hosts"]),
        )
    )


def _ssh(profile: dict[str, Any], *, runners: bool) -> SshTransport:
    return SshTransport(
        SshSettings(
            host=profile["host"],
            port=int(profile["port"]),
            user=profile["user"],
            key_path=Path(profile["key_path"]),
            known_hosts=Path(profile["known_hosts"]),
            command_runners=runners,
        )
    )


def _local(profile: dict[str, Any]) -> LocalTransport:
    return LocalTransport(env={"SLURM_CONF": profile["slurm_conf"]})


async def _submit_all(client: Client, specs: list[JobSpec], ids: list[str]) -> float:
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
    client = _client(transport)
    prefix = f"{name}-{uuid.uuid4().hex[:6]}"
    seconds = await _submit_all(client, _specs(root, prefix, count), ids)
    print(f"  {name:>9}: {count} submissions in {seconds:.2f} s = {count / seconds:.1f} jobs/s")
    return seconds


async def _command_cost(name: str, transport: Transport, count: int = 30) -> float:
    """Median wall time of a bare `true`, one at a time: the fixed cost of any command."""
    timings = []
    for _ in range(count):
        start = time.perf_counter()
        await transport.run(["true"], check=True)
        timings.append(time.perf_counter() - start)
    median = statistics.median(timings)
    print(f"  {name:>9}: `true` median {median * 1000:.1f} ms (min {min(timings) * 1000:.1f} ms)")
    return median


async def _poll_cost(
    name: str, client: Client, root: Path, ids: list[str], names: list[str]
) -> None:
    """A sweep's poll: every id and (for the intents) every name, and the status files."""
    transport = client.transport
    timings = []
    trips = 0
    for _ in range(5):
        before = transport.round_trips
        start = time.perf_counter()
        await client.poll(ids, names[:10])
        await client.read_states(str(root), names)
        timings.append(time.perf_counter() - start)
        trips = transport.round_trips - before
    kind = "slurm" if isinstance(client, SlurmClient) else "torque"
    print(
        f"  {name:>11} {kind:>6}: poll of {len(ids)} ids + 10 names = {trips} round trips, "
        f"median {statistics.median(timings) * 1000:.0f} ms (min {min(timings) * 1000:.0f} ms)"
    )


async def main(jobs: int, rounds: int, poll_jobs: int) -> None:
    profile = _profile()
    root = Path(profile["work_root"]) / f"bench-{uuid.uuid4().hex[:8]}"
    ids: list[str] = []
    async with (
        _local(profile) as local,
        _ssh(profile, runners=True) as ssh,
        _ssh(profile, runners=False) as exec_ssh,
        _behind_bastion(profile) as jumped,
    ):
        transports: dict[str, Transport] = {"local": local, "ssh": ssh, "ssh-exec": exec_ssh}
        try:
            print("one command at a time:")
            for name, transport in transports.items():
                await _command_cost(name, transport)
            for name, transport in transports.items():  # warm-up: runners, dialect, caches
                await _submit_all(_client(transport), _specs(root, f"w-{name}", 8), ids)
            times: dict[str, list[float]] = {name: [] for name in transports}
            order = list(transports)
            for index in range(rounds):
                print(f"round {index + 1}: {jobs} trivial submissions each, up to 8 concurrent")
                for name in order[index % 3 :] + order[: index % 3]:
                    times[name].append(await _throughput(name, transports[name], root, jobs, ids))
            medians = {name: statistics.median(values) for name, values in times.items()}
            print("medians: " + ", ".join(f"{n} {s:.2f} s" for n, s in medians.items()))
            print(f"  ratio ssh/local: {medians['ssh'] / medians['local']:.2f}x")
            print(f"  ratio ssh-exec/local: {medians['ssh-exec'] / medians['local']:.2f}x")
            await _poll({**transports, "ssh-bastion": jumped}, root, ids, poll_jobs)
        finally:
            with anyio.move_on_after(120, shield=True):
                await _client(local).delete(ids)
                await local.remove(str(root))


async def _poll(
    transports: dict[str, Transport], root: Path, ids: list[str], poll_jobs: int
) -> None:
    extra = _specs(root, "poll", max(0, poll_jobs - len(ids)))
    await _submit_all(_client(transports["ssh"]), extra, ids)
    names = sorted(p.name for p in root.iterdir())[:poll_jobs]  # noqa: ASYNC240 - once, small
    print(f"polling ({len(ids[:poll_jobs])} ids + 10 names, read_states of {len(names)}):")
    for name, transport in transports.items():
        for client in (PbsClient(transport, TORQUE), SlurmClient(transport)):
            await _poll_cost(name, client, root, ids[:poll_jobs], names)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--poll-jobs", type=int, default=500)
    parser.add_argument("--scheduler", choices=("torque", "slurm"), default="torque")
    arguments = parser.parse_args()
    SCHEDULER = arguments.scheduler
    anyio.run(main, arguments.jobs, arguments.rounds, arguments.poll_jobs)
