"""
Project sweep benchmark: `sweep_project` / `sweep_until_done` against XNAT over real TCP.

The XNAT-compatible server runs in its own process (benchmarks._sweep_serve) on 127.0.0.1 with
20 ms of latency added to every answer; the engine runs here with the demo processors
(imgstats_v1 per T1w scan, sessreport_v1 per session, which needs imgstats) and the local
backend (jobs are detached local processes; work root in a temporary directory).

    .venv/bin/python -m benchmarks.sweep_bench --scenario quiet [--sessions 10000] [--runs 2]
    .venv/bin/python -m benchmarks.sweep_bench --scenario new [--sessions 1000] [--interval 0.5]
    .venv/bin/python -m benchmarks.sweep_bench --scenario dax [--sessions 200] [--dax PATH]

quiet  every demo task of a 10,000-session project is already COMPLETE: one `sweep_project`
       call; requests, wall time (split: snapshot, observe, plan, rest), peak memory.
       Goal: <= 6 requests, < 3 s, < 400 MB.
new    1,000 sessions, no assessor: `sweep_until_done` until every task is COMPLETE; wall time,
       requests by kind and per task, and wall time / (requests x latency / concurrency).
       Goal: under 1.5x that floor.
dax    the quiet sweep next to `dax build` on equally settled projects (benchmarks._sweep_dax).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx

from aspider.plan import Plan
from aspider.plan.actions import JobObservation
from aspider.run.backends import LocalBackend
from aspider.run.sweep import SweepOptions, SweepReport, sweep_project, sweep_until_done
from aspider.run.wiring import AROUND_CPU_WORK
from benchmarks._sweep_serve import PROJECT, USER, demo_processors
from pbs import LocalTransport
from xnat_client import Credentials, ProjectSnapshot, XnatClient

GOAL_REQUESTS, GOAL_RATIO = 6, 1.5
# The quiet sweep's goals by project size: (sessions up to, seconds, MB of peak memory).
QUIET_GOALS = ((10_000, 2.0, 400.0), (100_000, 15.0, 2048.0))


def quiet_goal(sessions: int) -> tuple[float, float]:
    """The wall time and peak memory a quiet sweep of this many sessions must stay under."""
    return next(((s, mb) for n, s, mb in QUIET_GOALS if sessions <= n), QUIET_GOALS[-1][1:])


class Server:
    """The server process: started with its arguments, asked for its request counts."""

    def __init__(self, *args: str) -> None:
        command = [sys.executable, "-m", "benchmarks._sweep_serve", *args]
        # Another checkout's server (ASPIDER_BENCH_SERVER_TREE): two engines, measured side by
        # side, then sweep the very same data, built by one version of the server.
        tree = os.environ.get("ASPIDER_BENCH_SERVER_TREE") or None
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tree
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line:
            self.proc.kill()
            raise SystemExit("the benchmark server did not start")
        self.url, self.setup_seconds = line[0], float(line[1])

    def ask(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return answer

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


class TimedXnat(XnatClient):
    """The client, noting when the snapshot (the sweep's first step) ends."""

    snapshot_end = 0.0

    async def project_snapshot(
        self, project: str, *, tracers: bool = False, subject_assessors: bool = False
    ) -> ProjectSnapshot:
        snapshot = await super().project_snapshot(
            project, tracers=tracers, subject_assessors=subject_assessors
        )
        self.snapshot_end = time.perf_counter()
        return snapshot


class TimedLocalBackend(LocalBackend):
    """The local backend, noting when the poll (the sweep's second step) ends."""

    observe_end = 0.0

    async def observe(self, jobs: Mapping[str, str]) -> dict[str, JobObservation]:
        found = await super().observe(jobs)
        self.observe_end = time.perf_counter()
        return found


def client(url: str, concurrency: int, transport: str = "aiohttp") -> TimedXnat:
    """The engine's client on its default transport, or (`httpx`) on httpx's own."""
    chosen = None
    if transport == "httpx":
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        chosen = httpx.AsyncHTTPTransport(limits=limits)
    return TimedXnat(
        url,
        credentials=Credentials.password(*USER),
        concurrency=concurrency,
        transport=chosen,
        around_cpu_work=AROUND_CPU_WORK,  # as the engine builds its client
    )


# -- quiet -----------------------------------------------------------------------------------


@dataclass
class QuietMeasure:
    requests: int
    seconds: float
    snapshot: float
    observe: float
    plan: float
    actions: int
    sessions: int


async def quiet_once(url: str, work_root: str, http: str) -> QuietMeasure:
    processors = demo_processors()
    plan_end = 0.0
    seen: list[Plan] = []

    def on_plan(plan: Plan) -> None:
        nonlocal plan_end
        plan_end = time.perf_counter()
        seen.append(plan)

    async with client(url, 16, http) as xnat, LocalTransport() as transport:
        await xnat.list_projects()  # log in and warm the connection outside the measure
        backend = TimedLocalBackend(transport, work_root)
        started = time.perf_counter()
        report = await sweep_project(xnat, backend, PROJECT, processors, on_plan=on_plan)
        ended = time.perf_counter()
    plan = seen[0]
    return QuietMeasure(
        requests=report.requests,
        seconds=ended - started,
        snapshot=xnat.snapshot_end - started,
        observe=backend.observe_end - xnat.snapshot_end,
        plan=plan_end - backend.observe_end,
        actions=len(plan.actions()),
        sessions=len(plan.sessions),
    )


def run_quiet(args: argparse.Namespace) -> None:
    server = Server(
        "--sessions", str(args.sessions), "--latency", str(args.latency), "--settled",
        "--other-assessors", str(args.other_assessors),
    )  # fmt: skip
    try:
        with tempfile.TemporaryDirectory(prefix="sweep-bench-") as work_root:
            server.ask("reset")
            timed = [
                anyio.run(quiet_once, server.url, work_root, args.transport)
                for _ in range(args.runs)
            ]
            wire = server.ask("count")
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            tracemalloc.start()
            anyio.run(quiet_once, server.url, work_root, args.transport)
            peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    finally:
        server.stop()
    report_quiet(args, server, timed, wire, rss_mb, peak_mb)


def report_quiet(
    args: argparse.Namespace,
    server: Server,
    timed: list[QuietMeasure],
    wire: dict[str, Any],
    rss_mb: float,
    peak_mb: float,
) -> None:
    best = min(timed, key=lambda m: m.seconds)
    print(f"quiet sweep: {args.sessions} sessions, every demo task COMPLETE "
          f"(+{args.other_assessors} other assessors per session)")  # fmt: skip
    print(f"server: set up in {server.setup_seconds:.1f} s, latency {args.latency * 1000:.0f} ms")
    print(f"actions planned: {best.actions}")
    print(f"requests per sweep (client count): {best.requests}  goal <= {GOAL_REQUESTS}")
    per_run = {k: v // len(timed) for k, v in wire["kinds"].items()}
    print(f"server log per run (log in, warm-up listing, log out included): {per_run}")
    runs = ", ".join(f"{m.seconds:.2f}" for m in timed)
    goal_seconds, goal_mb = quiet_goal(args.sessions)
    print(f"wall time: best {best.seconds:.2f} s (runs: {runs})  goal < {goal_seconds} s")
    rest = best.seconds - best.snapshot - best.observe - best.plan
    print(f"  snapshot {best.snapshot:.2f} s, observe {best.observe:.3f} s, "
          f"plan {best.plan:.2f} s, rest (lease, execute) {rest:.3f} s")  # fmt: skip
    print(f"peak memory: tracemalloc {peak_mb:.0f} MB, process max RSS {rss_mb:.0f} MB"
          f"  goal < {goal_mb:.0f} MB")  # fmt: skip


# -- new -------------------------------------------------------------------------------------


@dataclass
class SweepLine:
    at: float
    requests: int
    actions: Counter[str] = field(default_factory=Counter)
    done: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: int = 0


@dataclass
class NewRun:
    wall: float
    requests: int
    lines: list[SweepLine]
    client_cpu: float
    server_cpu: float = 0.0
    machine_cpu: float = 0.0


def machine_busy_seconds() -> float:
    """CPU time all cores spent not idle since boot (Linux /proc/stat), every process included."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


async def new_run(url: str, work_root: str, args: argparse.Namespace) -> NewRun:
    processors = demo_processors()
    lines: list[SweepLine] = []
    options = SweepOptions(
        transfers=args.transfers, chain=not args.no_chain, history=not args.no_history
    )

    def on_report(report: SweepReport) -> None:
        actions = Counter(str(a.kind) for a in report.plan.actions())
        failures = len(report.outcome.failures) + len(report.session_errors)
        done = report.outcome.counts
        at = time.perf_counter() - started
        lines.append(SweepLine(at, report.requests, actions, Counter(done), failures))

    async with client(url, args.concurrency, args.transport) as xnat, LocalTransport() as transport:
        await xnat.list_projects()
        before = xnat.requests_sent
        backend = LocalBackend(transport, work_root)
        started = time.perf_counter()
        cpu_started = time.process_time()
        with anyio.fail_after(args.timeout):
            await sweep_until_done(
                xnat, backend, PROJECT, processors, options,
                interval=args.interval, on_report=on_report,
            )  # fmt: skip
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        requests = xnat.requests_sent - before
    return NewRun(wall, requests, lines, cpu)


async def final_state(url: str) -> Counter[tuple[str, str]]:
    async with client(url, 4) as xnat:
        snapshot = await xnat.project_snapshot(PROJECT)
    return Counter((a.proctype, a.procstatus) for s in snapshot.sessions for a in s.assessors)


def run_new(args: argparse.Namespace) -> None:
    server = Server(
        "--sessions", str(args.sessions), "--latency", str(args.latency),
        "--other-assessors", str(args.other_assessors),
    )  # fmt: skip
    try:
        with tempfile.TemporaryDirectory(prefix="sweep-bench-") as work_root:
            server.ask("reset")
            server_cpu = server.cpu_seconds()
            machine = machine_busy_seconds()
            run = anyio.run(new_run, server.url, work_root, args)
            run.machine_cpu = machine_busy_seconds() - machine
            run.server_cpu = server.cpu_seconds() - server_cpu
            wire = server.ask("count")
            state = anyio.run(final_state, server.url)
    finally:
        server.stop()
    report_new(args, run, wire, state)


def report_new(
    args: argparse.Namespace,
    run: NewRun,
    wire: dict[str, Any],
    state: Counter[tuple[str, str]],
) -> None:
    wall, requests, lines = run.wall, run.requests, run.lines
    tasks = sum(n for (_, status), n in state.items())
    print(f"all-new sweep: {args.sessions} sessions x 2 demo processors, local backend, "
          f"interval {args.interval} s, HTTP concurrency {args.concurrency}, "
          f"transfers {args.transfers}, chaining {'off' if args.no_chain else 'on'}, "
          f"transport {args.transport}")  # fmt: skip
    print(f"final state: {dict(state)}")
    for n, line in enumerate(lines, 1):
        done = {f"{p}:{w}": c for (p, w), c in sorted(line.done.items())}
        print(f"  sweep {n}: ended at {line.at:6.2f} s, {line.requests:6d} requests, "
              f"planned {dict(line.actions)}, did {done}, failures {line.failures}")  # fmt: skip
    kinds = wire["kinds"]
    print(f"requests: client {requests}, server log {sum(kinds.values())} "
          f"(failed: {wire['failed']})")  # fmt: skip
    for kind, count in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:28s} {count:7d}  {count / max(1, tasks):6.2f} per task")
    floor = requests * args.latency / args.concurrency
    ratio = wall / floor
    ms = args.latency * 1000
    print(f"wall time: {wall:.1f} s; floor {requests} x {ms:.0f} ms / {args.concurrency} = "
          f"{floor:.1f} s; ratio {ratio:.2f}  goal < {GOAL_RATIO}")  # fmt: skip
    print(f"CPU: engine process {run.client_cpu:.1f} s "
          f"({run.client_cpu / requests * 1000:.2f} ms per request), "
          f"server process {run.server_cpu:.1f} s; 2 cores shared with the jobs")  # fmt: skip
    cores = os.cpu_count() or 1
    others = run.machine_cpu - run.client_cpu - run.server_cpu
    print(f"machine: {run.machine_cpu:.1f} s busy of {cores} x {wall:.1f} s "
          f"({run.machine_cpu / (cores * wall):.0%}); jobs and everything else {others:.1f} s; "
          f"all that CPU on {cores} cores needs at least {run.machine_cpu / cores:.1f} s "
          f"({run.machine_cpu / cores / floor:.2f}x the floor)")  # fmt: skip


# -- dax -------------------------------------------------------------------------------------


def run_dax(args: argparse.Namespace) -> None:
    """The quiet sweep of aspider and `dax build`, each on its own settled server."""
    from benchmarks import _sweep_dax as dax

    server = Server("--sessions", str(args.sessions), "--latency", str(args.latency))
    try:
        with tempfile.TemporaryDirectory(prefix="sweep-bench-dax-") as root:
            settings = dax.write_setup(Path(root), server.url)
            completed = dax.settle_with_dax(args.dax, settings, server.url)
            server.ask("reset")
            build = dax.run_build(args.dax, settings, server.url, 99)
            dax_wire = server.ask("count")
    finally:
        server.stop()
    startup = dax.startup_seconds(args.dax)
    ours = Server(
        "--sessions", str(args.sessions), "--latency", str(args.latency), "--settled"
    )  # fmt: skip
    try:
        with tempfile.TemporaryDirectory(prefix="sweep-bench-") as work_root:
            ours.ask("reset")
            timed = [
                anyio.run(quiet_once, ours.url, work_root, args.transport) for _ in range(args.runs)
            ]
            our_wire = ours.ask("count")
    finally:
        ours.stop()
    best = min(timed, key=lambda m: m.seconds)
    print(f"quiet sweep side by side: {args.sessions} sessions, 2 processors, every task "
          f"COMPLETE, latency {args.latency * 1000:.0f} ms")  # fmt: skip
    print(f"dax: {completed} assessors completed while settling; measured build:")
    dax_total = sum(dax_wire["kinds"].values())
    print(f"  requests {dax_total}, wall time {build.seconds:.1f} s "
          f"(of which interpreter start and imports ~{startup:.1f} s: `dax version`)")  # fmt: skip
    for kind, count in sorted(dax_wire["kinds"].items(), key=lambda kv: -kv[1]):
        print(f"    {kind:40s} {count:6d}")
    print(f"aspider: requests {best.requests} (client count), wall time {best.seconds:.2f} s "
          f"(runs: {', '.join(f'{m.seconds:.2f}' for m in timed)})")  # fmt: skip
    for kind, count in sorted(our_wire["kinds"].items(), key=lambda kv: -kv[1]):
        print(f"    {kind:40s} {count / len(timed):6.0f} per run (login and warm-up included)")


def main() -> None:
    parser = argparse.ArgumentParser(description="project sweep benchmark")
    parser.add_argument("--scenario", choices=("quiet", "new", "dax"), default="quiet")
    parser.add_argument("--sessions", type=int, default=None, help="10000 quiet, 1000 new")
    parser.add_argument("--other-assessors", type=int, default=0,
                        help="assessors of other proctypes per session")  # fmt: skip
    parser.add_argument("--latency", type=float, default=0.020)
    parser.add_argument("--runs", type=int, default=2, help="quiet: timed sweeps")
    parser.add_argument("--interval", type=float, default=0.5, help="new: between sweeps")
    parser.add_argument("--concurrency", type=int, default=16, help="new: HTTP requests")
    parser.add_argument("--transfers", type=int, default=SweepOptions().transfers)
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="new: no workflow entry per transition (xnat.history: false)",
    )
    parser.add_argument(
        "--no-chain", action="store_true", help="no chaining of downstream tasks within a sweep"
    )
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument(
        "--transport",
        choices=("aiohttp", "httpx"),
        default="aiohttp",
        help="the client's default (httpx-aiohttp), or httpx's own AsyncHTTPTransport",
    )
    parser.add_argument("--dax", default="/tmp/daxenv/bin/dax", help="dax: its executable")
    args = parser.parse_args()
    if args.sessions is None:
        args.sessions = {"quiet": 10_000, "new": 1_000, "dax": 200}[args.scenario]
    if args.scenario == "quiet":
        run_quiet(args)
    elif args.scenario == "new":
        run_new(args)
    else:
        run_dax(args)


if __name__ == "__main__":
    main()
