"""
Serve a synthetic project over real TCP for the snapshot benchmark, in its own process.

Run by `benchmarks.snapshot_bench`, which reads the first stdout line (the base URL) and stops
this process when done; the server runs apart so that the client's memory is measured alone.
"""

from __future__ import annotations

import argparse
import sys
import time

import anyio

from xnat_client.sandbox import XnatServer, generate_project, serve_tcp


async def serve(sessions: int, scans: int, assessors: int, latency: float) -> None:
    server = XnatServer(users={"bench": "bench"}, latency=latency)
    started = time.perf_counter()
    generate_project(
        server,
        "BENCH",
        sessions=sessions,
        scans_per_session=scans,
        assessors_per_session=assessors,
        seed=1,
    )
    built = time.perf_counter() - started
    async with serve_tcp(server) as url:
        print(url, f"{built:.1f}", flush=True)
        await anyio.sleep_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--scans", type=int, default=6)
    parser.add_argument("--assessors", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.020)
    args = parser.parse_args()
    try:
        anyio.run(serve, args.sessions, args.scans, args.assessors, args.latency)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
