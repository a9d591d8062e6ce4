"""
Server-side cost of the XNAT-compatible server's bulk listings.

Builds a synthetic project, then calls the ASGI app directly (no client, no socket) with the
two bulk queries a project snapshot sends, and reports the CPU time the server spends on each
and the size of the answer. Run:

    .venv/bin/python -m benchmarks.server_listing_bench --sessions 10000 --runs 3 [--format csv]
"""

from __future__ import annotations

import argparse
import base64
import time
from typing import Any

import anyio

from xnat_client.sandbox import XnatServer, generate_project

SESSION_COLUMNS = (
    "ID,label,project,subject_ID,subject_label,date,xsiType,last_modified,"
    "xnat:imagescandata/id,xnat:imagescandata/type,xnat:imagescandata/series_description,"
    "xnat:imagescandata/quality,xnat:imagescandata/note,xnat:imagescandata/frames,"
    "xnat:imagescandata/file/label,xnat:imagescandata/file/format,"
    "xnat:imagescandata/file/file_count,xnat:imagescandata/file/file_size,"
    "xnat:imagescandata/file/xnat_abstractresource_id"
)
ASSESSOR_COLUMNS = (
    "ID,label,project,session_ID,session_label,last_modified,"
    "proc:genprocdata/proctype,proc:genprocdata/procversion,proc:genprocdata/procstatus,"
    "proc:genprocdata/validation/status,proc:genprocdata/note,proc:genprocdata/inputs,"
    "proc:genprocdata/jobid,proc:genprocdata/jobnode,proc:genprocdata/jobstartdate,"
    "proc:genprocdata/memused,proc:genprocdata/walltimeused,proc:genprocdata/out/file/label"
)
QUERIES = {
    "sessions x scans x resources": (
        f"project=BENCH&xsiType=xnat:imageSessionData&columns={SESSION_COLUMNS}"
    ),
    "assessors x out resources": (
        f"project=BENCH&xsiType=proc:genProcData&columns={ASSESSOR_COLUMNS}"
    ),
}


async def call(server: XnatServer, query: str) -> tuple[int, int]:
    """One GET /data/experiments through the ASGI app; returns (status, body bytes)."""
    token = base64.b64encode(b"admin:admin")
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/data/experiments",
        "raw_path": b"/data/experiments",
        "query_string": query.encode(),
        "headers": [(b"authorization", b"Basic " + token)],
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
        "http_version": "1.1",
    }
    status, size = 0, 0
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:  # like a server: nothing more until the client goes away
            await anyio.sleep_forever()
        received = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))

    await server.app(scope, receive, send)
    return status, size


async def main(sessions: int, runs: int, fmt: str) -> None:
    server = XnatServer()
    started = time.process_time()
    generate_project(server, "BENCH", sessions=sessions, seed=1)
    print(f"generate_project({sessions} sessions): {time.process_time() - started:.2f} s CPU")
    for name, query in QUERIES.items():
        times = []
        for _ in range(runs):
            started = time.process_time()
            status, size = await call(server, f"format={fmt}&{query}")
            times.append(time.process_time() - started)
        shown = ", ".join(f"{t:.2f}" for t in times)
        print(f"{name}: status {status}, {size / 1e6:.1f} MB, CPU s per run: {shown}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    args = parser.parse_args()
    anyio.run(main, args.sessions, args.runs, args.format)
