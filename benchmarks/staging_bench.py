"""
Staging one input resource, two ways, side by side: listed and fetched file by file (what a
resource takes when the snapshot did not count its files, or when a pattern chooses among
them) and as one zip download unpacked as it streams (what a counted resource whose files are
all wanted takes).

    .venv/bin/python -m benchmarks.staging_bench [--files 200] [--size 262144]
        [--latency 0.02] [--rounds 3]

The XNAT-compatible server runs in its own process over real TCP on 127.0.0.1 with `--latency`
added to every answer, holding one scan resource of `--files` files of `--size` bytes (a DICOM
series). Each round stages the resource with `run.staging.stage_inputs` into a fresh
INPUTS/ on the local disk, once each way, alternating which goes first; medians are reported,
with the requests each way made (the client's count) and the bytes that landed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath

import anyio

from aspider.plan.tasks import InputResource, ResolvedInput, Task, TaskRequirements
from aspider.run.tasks.staging import stage_inputs
from pbs import LocalTransport
from xnat_client import Credentials, XnatClient

SERVE = """
import asyncio, sys
from xnat_client.sandbox import XnatServer, generate_project, serve_tcp

async def main():
    files, size, latency = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    server = XnatServer()
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=1)
    session = next(server.store.sessions_of("P1"))
    scan = server.store.add_scan(session, "99", type="SERIES")
    series = {f"{n:04d}.dcm": bytes([n % 251]) * 128 + bytes(range(256)) * (size // 256)
              for n in range(files)}
    server.store.add_resource(scan.resources, "DICOM", "DICOM", "RAW", series)
    server.latency = latency
    async with serve_tcp(server) as url:
        print(url, session.id, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


def _task(session_id: str, files: int, counted: bool) -> Task:
    resource = InputResource(
        "DICOM", "DIR", None, "dicom", None, None, True, "", file_count=files if counted else None
    )
    item = ResolvedInput("series", "scan", "", session_id, "", scan_id="99", resources=(resource,))
    requirements = TaskRequirements("0-00:05", 300, 256, 1)
    return Task(
        "bench", "series_v1", "1.0.0", "scan", 10, "P1", "", "", session_id, "", "99",
        (item,), "{}", "true", None, requirements, (),
    )  # fmt: skip


async def _stage_once(xnat: XnatClient, task: Task, root: Path) -> tuple[float, int, int]:
    inputs = root / "INPUTS"
    shutil.rmtree(inputs, ignore_errors=True)
    sent = xnat.requests_sent
    async with LocalTransport() as transport:
        start = time.perf_counter()
        staged = await stage_inputs(xnat, transport, PurePosixPath(inputs), task)
        wall = time.perf_counter() - start
    landed = sum(p.stat().st_size for p in inputs.rglob("*") if p.is_file())
    assert len(staged) == len(list(inputs.rglob("*.dcm")))
    return wall, xnat.requests_sent - sent, landed


async def run(args: argparse.Namespace, url: str, session_id: str) -> None:
    credentials = Credentials.password("admin", "admin")
    ways = {"listed, file by file": False, "one zip, streamed": True}
    walls: dict[str, list[float]] = {w: [] for w in ways}
    counts: dict[str, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with XnatClient(url, credentials=credentials) as xnat:
            await xnat.project_snapshot("P1")  # log in and warm the pool outside the measure
            for r in range(args.rounds):
                order = list(ways) if r % 2 == 0 else list(reversed(ways))
                for way in order:
                    task = _task(session_id, args.files, ways[way])
                    wall, requests, landed = await _stage_once(xnat, task, Path(tmp))
                    walls[way].append(wall)
                    counts[way] = (requests, landed)
    mib = args.files * args.size / 2**20
    print(
        f"staging one resource of {args.files} files ({mib:.0f} MiB) at "
        f"{args.latency * 1000:.0f} ms latency, {args.rounds} rounds (medians)"
    )
    print(f"{'way':<24} {'wall':>8} {'requests':>9} {'bytes landed':>13}")
    for way in ways:
        requests, landed = counts[way]
        print(f"{way:<24} {statistics.median(walls[way]):>7.2f}s {requests:>9} {landed:>13}")
    listed, zipped = (statistics.median(walls[w]) for w in ways)
    print(f"zip is {listed / zipped:.1f}x faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--size", type=int, default=256 * 1024)
    parser.add_argument("--latency", type=float, default=0.020)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    argv = [sys.executable, "-c", SERVE, str(args.files), str(args.size), str(args.latency)]
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        url, session_id = proc.stdout.readline().split()
        anyio.run(run, args, url, session_id)
        proc.stdin.close()  # the server's cue to stop
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
