"""
Project snapshot at scale: requests, wall time and peak memory of `project_snapshot`.

A 10,000-session project (6 scans each, 3 assessors each = 30,000 assessors) is served by the
XNAT-compatible server over real TCP (uvicorn on 127.0.0.1, in a separate process) with 20 ms
of latency added to every answer. The client logs in, then reads the snapshot: once timed
(best of `--runs`), once under tracemalloc for the peak of Python allocations.

    .venv/bin/python -m benchmarks.snapshot_bench [--sessions N] [--latency S] [--runs K]
                                                  [--no-gc-pause]

The client is given a pause of the cyclic garbage collector as its `around_cpu_work` hook,
as an application reading large projects would (the engine does): entered around each
synchronous fold and build step, never across a request. `--no-gc-pause` measures the
library's default, no hook.

Goal: <= 6 requests, < 3 s, < 400 MB.
"""

from __future__ import annotations

import argparse
import gc
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass

import anyio

from xnat_client import Credentials, XnatClient

GOAL_REQUESTS, GOAL_SECONDS, GOAL_MB = 6, 3.0, 400.0


@dataclass
class Measure:
    requests: int
    wire_requests: int
    seconds: float
    sessions: int
    scans: int
    assessors: int


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection inside one synchronous step (the steps never overlap here)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def snapshot_once(url: str, hook: Callable[[], AbstractContextManager[object]]) -> Measure:
    credentials = Credentials.password("bench", "bench")
    async with XnatClient(url, credentials=credentials, around_cpu_work=hook) as xnat:
        await xnat.list_projects()  # log in and warm the connection outside the measure
        before = xnat.requests_sent
        started = time.perf_counter()
        snapshot = await xnat.project_snapshot("BENCH")
        seconds = time.perf_counter() - started
        wire = xnat.requests_sent - before
    sessions = snapshot.sessions
    return Measure(
        requests=snapshot.requests,
        wire_requests=wire,
        seconds=seconds,
        sessions=len(sessions),
        scans=sum(len(s.scans) for s in sessions),
        assessors=sum(len(s.assessors) for s in sessions),
    )


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str, str]:
    command = [
        sys.executable, "-m", "benchmarks.snapshot_serve",
        "--sessions", str(args.sessions), "--latency", str(args.latency),
    ]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline().split()
    if not line:
        server.kill()
        raise SystemExit("the benchmark server did not start")
    return server, line[0], line[1]


def main() -> None:
    parser = argparse.ArgumentParser(description="project_snapshot benchmark")
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.020)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-gc-pause", action="store_true", help="no around_cpu_work hook")
    args = parser.parse_args()
    hook = nullcontext if args.no_gc_pause else gc_paused
    server, url, built = start_server(args)
    try:
        timed = [anyio.run(snapshot_once, url, hook) for _ in range(args.runs)]
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tracemalloc.start()
        anyio.run(snapshot_once, url, hook)
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    finally:
        server.terminate()
        server.wait(timeout=10)
    report(args, built, timed, rss_mb, peak_mb)


def report(
    args: argparse.Namespace, built: str, timed: list[Measure], rss_mb: float, peak_mb: float
) -> None:
    best = min(timed, key=lambda m: m.seconds)
    print(f"project: {best.sessions} sessions, {best.scans} scans, {best.assessors} assessors")
    print(f"server: built in {built} s, latency {args.latency * 1000:.0f} ms per request")
    print(f"client: garbage collector {'not paused' if args.no_gc_pause else 'paused per step'}")
    print(f"requests: {best.requests} (on the wire: {best.wire_requests})  goal <= {GOAL_REQUESTS}")
    runs = ", ".join(f"{m.seconds:.2f}" for m in timed)
    print(f"wall time: best {best.seconds:.2f} s (runs: {runs})  goal < {GOAL_SECONDS} s")
    print(f"peak memory: tracemalloc {peak_mb:.0f} MB, process max RSS {rss_mb:.0f} MB"
          f"  goal < {GOAL_MB} MB")  # fmt: skip
    met = best.requests <= GOAL_REQUESTS and best.seconds < GOAL_SECONDS and rss_mb < GOAL_MB
    print("goal met" if met else "goal NOT met")


if __name__ == "__main__":
    main()
