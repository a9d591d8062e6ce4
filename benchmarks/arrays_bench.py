"""
Job arrays benchmark on the loopback Slurm: the sweep that submits 1,000 tasks (500 sessions x
two session-level processors), with `cluster.arrays` on and off, side by side in one run.

    .venv/bin/python -m benchmarks.arrays_bench [--sessions 500] [--rounds 2] [--latency 0.02]
        [--submit-rate RATE]

Each round sweeps a fresh project once with arrays off and once on (which goes first alternates,
so a queue that grows or a busy machine favours neither), through the real SSH transport to the
cluster's sshd and sbatch/scontrol, the XNAT-compatible server in process with `--latency` added
to every answer (16 requests at once). Reported per mode: scheduler commands of the sweep (every
sbatch, scontrol, squeue, sacct; `BatchClient.scheduler_commands`), every remote command (the
transport's round trips: markers, job directories), the sweep's wall time and XNAT requests;
medians over the rounds. The jobs (`true`) are cancelled and their directories removed after
each sweep, so the cluster is left as found.

Needs the loopback cluster (tests/cluster/up).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx

from aspider.processors import Processor, load_processors
from aspider.run.backends import ArrayPolicy, SchedulerBackend
from aspider.run.sweep import sweep_project
from pbs import SlurmClient, SshSettings, SshTransport
from xnat_client import Credentials, RetryPolicy, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

REPO = Path(__file__).resolve().parent.parent

PROCESSOR = """\
procyamlversion: 3.0.0-dev.0
level: session
requirements: {walltime: '0-00:05', memory: 64M, ppn: 1}
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1w
        keep_multis: first
outputs:
  - stats: out.txt
command:
  type: shell
  script: echo %s > "$OUTDIR/out.txt"
"""


@dataclass
class Measure:
    mode: str
    submitted: int
    scheduler_commands: int
    round_trips: int
    requests: int
    wall: float


def _profile() -> dict[str, Any]:
    path = Path(os.environ.get("ASPIDER_CLUSTER_PROFILE", REPO / ".cluster" / "profile.json"))
    return dict(json.loads(path.read_text()))


def _processors(folder: Path) -> list[Processor]:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("first", "second"):
        (folder / f"{name}_v1.0.0.yaml").write_text(PROCESSOR % name)
    return list(load_processors([folder]))


async def _sweep(
    server: XnatServer,
    settings: SshSettings,
    root: Path,
    processors: list[Processor],
    args: argparse.Namespace,
    arrays: bool,
) -> Measure:
    project = f"B{uuid.uuid4().hex[:8]}"
    generate_project(server, project, sessions=args.sessions, assessors_per_session=0, seed=1)
    xnat = XnatClient(
        "http://xnat.bench",
        credentials=Credentials.password("admin", "admin"),
        transport=httpx.ASGITransport(app=server.app),
        retry=RetryPolicy(attempts=4, backoff_initial=0.01, backoff_max=0.1, budget=10),
    )
    work_root = root / project
    async with xnat, SshTransport(settings) as transport:
        client = SlurmClient(transport, submit_rate=args.submit_rate)
        policy = ArrayPolicy() if arrays else None
        backend = SchedulerBackend(client, str(work_root), "slurm", arrays=policy)
        trips = transport.round_trips
        started = time.perf_counter()
        report = await sweep_project(xnat, backend, project, processors)
        wall = time.perf_counter() - started
        measure = Measure(
            "arrays on" if arrays else "arrays off",
            sum(n for (_, what), n in report.outcome.counts.items() if what == "submitted"),
            client.scheduler_commands,
            transport.round_trips - trips,
            report.requests,
            wall,
        )
        jobs = [
            a.jobid for s in (await xnat.project_snapshot(project)).sessions for a in s.assessors
        ]
        await client.delete([job for job in jobs if job])
    shutil.rmtree(work_root, ignore_errors=True)
    return measure


async def bench(args: argparse.Namespace) -> list[Measure]:
    profile = _profile()
    settings = SshSettings(
        host=profile["host"],
        port=int(profile["port"]),
        user=profile["user"],
        key_path=Path(profile["key_path"]),
        known_hosts=Path(profile["known_hosts"]),
    )
    root = Path(profile["work_root"]) / f"arrays-bench-{uuid.uuid4().hex[:6]}"
    processors = _processors(root / "processors")
    server = XnatServer(latency=args.latency)
    measures = []
    for n in range(args.rounds):
        for arrays in (n % 2 == 0, n % 2 != 0):
            measures.append(await _sweep(server, settings, root, processors, args, arrays))
            print(measures[-1], flush=True)
    shutil.rmtree(root, ignore_errors=True)
    return measures


def report(args: argparse.Namespace, measures: list[Measure]) -> None:
    tasks = args.sessions * 2
    print(
        f"\n{tasks} new tasks ({args.sessions} sessions x 2 processors), one sweep each, "
        f"loopback Slurm over SSH, XNAT in process at {args.latency * 1000:.0f} ms, "
        f"submit_rate {args.submit_rate or 'unlimited'}; medians of {args.rounds} rounds\n"
    )
    print("| | submitted | scheduler commands | remote commands | XNAT requests | wall time |")
    print("|---|---|---|---|---|---|")
    for mode in ("arrays off", "arrays on"):
        rows = [m for m in measures if m.mode == mode]
        med = {
            key: statistics.median(getattr(m, key) for m in rows)
            for key in ("submitted", "scheduler_commands", "round_trips", "requests", "wall")
        }
        print(
            f"| {mode} | {med['submitted']:.0f} | {med['scheduler_commands']:.0f} | "
            f"{med['round_trips']:.0f} | {med['requests']:.0f} | {med['wall']:.1f} s |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.020)
    parser.add_argument("--submit-rate", type=float, default=None)
    args = parser.parse_args()
    report(args, anyio.run(bench, args))


if __name__ == "__main__":
    main()
