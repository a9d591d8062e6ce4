"""
Serve the sweep benchmark's project over real TCP, in its own process, and count its requests.

Run by `benchmarks.sweep_bench`. The first stdout line is `<base URL> <setup seconds>`; then
each line read on stdin is a command answered with one JSON line on stdout:

    count     requests logged since the last reset, by kind (see `request_kind`)
    reset     forget the log
    statuses  the project's assessors by "proctype procstatus", read from the store (no
              request, so a benchmark can watch for the end without adding to the count)

The server runs apart so that its CPU (listings, latency timers) does not slow the client's
event loop and the client's memory is measured alone.

For the quiet scenario the project is *settled* before serving: the planner is run in this
process on a real snapshot (read through the client, in-process, without latency) and every
assessor it would create is added to the store as COMPLETE, with the very label and `inputs`
the planner produced, stored as an XNAT PUT of those fields would store them, and with its
declared output resources (plus OUTLOG) holding a small file. That repeats until the planner
creates nothing, because the session report can only be matched once the statistics assessor
it depends on exists.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections import Counter
from pathlib import Path

import anyio
import httpx

from aspider.plan import Task, Usage, made_from, plan_projects
from aspider.plan.actions import CreateAssessor
from aspider.plan.retry import first_attempt, with_head
from aspider.plan.states import QcStatus
from aspider.processors import Processor, load_processors
from xnat_client import AssessorFields, Credentials, XnatClient
from xnat_client.sandbox import LoggedRequest, XnatServer, generate_project, serve_tcp
from xnat_client.sandbox._xml import escape_xml

DEMO_PROCESSORS = Path(__file__).resolve().parents[1] / "aspider" / "demo" / "processors"
PROJECT = "BENCH"
USER = ("bench", "bench")
OUTPUT_BYTES = b"voxel_bytes=8\nmean_byte=3.500\n"


def request_kind(r: LoggedRequest) -> str:
    """A coarse class of one logged request, to count a sweep's traffic by purpose."""
    path, method = r.path, r.method
    parts = path.rstrip("/").split("/")
    last = parts[-1]
    if "files" in parts[:-1]:
        return "file upload" if method in ("PUT", "POST") else f"file {method}"
    if last == "files":
        if method == "GET" and "format=zip" in r.query:
            return "resource as one zip GET"
        return "file listing" if method == "GET" else f"file listing {method}"
    if path == "/data/JSESSION":
        return "log in/out"
    if path.startswith("/data/workflows"):
        return f"workflow entry {method}"
    if len(parts) >= 2 and parts[-2] == "assessors":
        return f"assessor {method}"
    if method == "GET" and last in (
        "experiments",
        "assessors",
        "subjects",
        "projects",
        "scans",
        "resources",
        "elements",
    ):
        scope = "site/project-wide" if len(parts) <= 5 else "one parent"
        return f"{last} listing ({scope})"
    if len(parts) >= 2 and parts[-2] in ("experiments", "subjects", "scans", "resources"):
        return f"{parts[-2][:-1]} {method}"
    return f"other {method}"


def demo_processors() -> list[Processor]:
    return list(load_processors([DEMO_PROCESSORS]))


async def settle(server: XnatServer, processors: list[Processor]) -> int:
    """Add a COMPLETE assessor for every task the planner would create; how many were added."""
    transport = httpx.ASGITransport(app=server.app)
    credentials = Credentials.password(*USER)
    added = 0
    async with XnatClient("http://settle", credentials=credentials, transport=transport) as x:
        while True:
            snapshot = await x.project_snapshot(PROJECT)
            plan = await plan_projects([snapshot], processors)
            creates = [a for a in plan.actions() if isinstance(a, CreateAssessor)]
            if not creates:
                return added
            for action in creates:
                add_complete(server, action)
            added += len(creates)


def add_complete(server: XnatServer, action: CreateAssessor) -> None:
    """Store the task's assessor as a PUT of its fields would, COMPLETE, with its outputs."""
    task = action.task
    fields = AssessorFields(
        proctype=task.proctype,
        procversion=task.procversion,
        procstatus="COMPLETE",
        qcstatus=QcStatus.NEEDS_QA.value,
        inputs=task.inputs_json,
        jobid="1.local",
        date="2024-01-01",
        note=completed_note(task),
    )
    values = {
        key.partition("/")[2].lower(): escape_xml(value)
        for key, value in fields.query().items()
        if "/" in key
    }
    store = server.store
    session = store.projects[task.project].sessions[task.session_id]
    assessor = store.add_assessor(session, task.label, "proc:genProcData", **values)
    for out in task.outputs:
        store.add_resource(assessor.out, out.resource, files={out.path: OUTPUT_BYTES})
    store.add_resource(assessor.out, "OUTLOG", files={"job.log": b"done\n"})


def completed_note(task: Task) -> str:
    """The note a completed job leaves: its attempt record and what it was made from."""
    req = task.requirements
    used = Usage(memory_mb=150, walltime_seconds=60, cpu_seconds=50, cpus=1)
    attempts = first_attempt(req.memory_mb, req.walltime_seconds).ended("1.local", "success", used)
    made = made_from(task)
    return with_head(attempts, made.text() if made is not None else "")


async def answer_commands(server: XnatServer) -> None:
    """Serve `count` / `reset` lines from stdin until it closes."""
    while True:
        line = await anyio.to_thread.run_sync(sys.stdin.readline)
        if not line:
            return
        command = line.strip()
        if command == "reset":
            server.requests.clear()
            print("{}", flush=True)
        elif command == "statuses":
            found = Counter(
                f"{a.fields.get('proctype', '')} {a.fields.get('procstatus', '')}"
                for a in server.store.assessors_of(PROJECT)
            )
            print(json.dumps(dict(found)), flush=True)
        elif command == "count":
            counts = Counter(request_kind(r) for r in server.requests)
            failed = sum(1 for r in server.requests if r.status >= 400 or r.status == 0)
            print(json.dumps({"kinds": dict(counts), "failed": failed}), flush=True)


async def serve(args: argparse.Namespace) -> None:
    server = XnatServer(users={USER[0]: USER[1]})
    started = time.perf_counter()
    generate_project(
        server,
        PROJECT,
        sessions=args.sessions,
        scans_per_session=args.scans,
        assessors_per_session=args.other_assessors,
        seed=1,
    )
    if args.settled:
        await settle(server, demo_processors())
    setup = time.perf_counter() - started
    # The store lives as long as the server: out of the collector's sight, as a server that
    # has run for a while has it, so that the first collections while it answers do not walk
    # tens of millions of objects (at 100,000 sessions that made the server the bottleneck).
    gc.collect()
    gc.freeze()
    server.requests.clear()
    server.latency = args.latency
    async with serve_tcp(server) as url:
        print(url, f"{setup:.1f}", flush=True)
        await answer_commands(server)


def main() -> None:
    parser = argparse.ArgumentParser(description="serve the sweep benchmark's project")
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--scans", type=int, default=6)
    parser.add_argument("--other-assessors", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.020)
    parser.add_argument("--settled", action="store_true", help="every demo task COMPLETE")
    args = parser.parse_args()
    try:
        anyio.run(serve, args)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
