"""
`aspider demo`: the whole loop, offline, in well under a minute.

The XNAT-compatible server runs in-process with a seeded synthetic project; two small processors
that really run here (per-scan image statistics, and a per-session report that depends on them)
go through the local executor; the engine sweeps until everything is COMPLETE, then prints the
status table, one report as XNAT now holds it, and where to look next.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import anyio
import httpx
from rich.console import Console

from aspider import engine
from aspider.cli_sweep import execute_run
from aspider.processors import load_processors
from aspider.report import print_status, print_summary
from aspider.settings import AspiderSettings, load_settings
from xnat_client import ResourceRef, XnatClient
from xnat_client.server import XnatServer, generate_project

DEMO_PROCESSORS = Path(__file__).resolve().parent / "demo_processors"
DEMO_PROJECT = "DEMO"
DEMO_URL = "http://sandbox.invalid"  # never resolved: requests go to the in-process server


def demo_settings(work_root: Path) -> AspiderSettings:
    jobs = max(2, (os.cpu_count() or 1) * 2)
    return load_settings(
        overrides={
            "processor_paths": [str(DEMO_PROCESSORS)],
            "projects": {DEMO_PROJECT: {}},
            "xnat": {"url": DEMO_URL, "user": "admin", "password": "admin"},
            "cluster": {"executor": "local", "work_root": str(work_root)},
            "limits": {"max_queued": jobs},
        }
    )


async def _report_text(settings: AspiderSettings) -> tuple[str, str]:
    async with engine.xnat_client(settings) as xnat:
        snap = await xnat.project_snapshot(DEMO_PROJECT)
        for session in snap.sessions:
            for a in session.assessors:
                if a.proctype == "sessreport_v1" and a.procstatus == "COMPLETE":
                    return a.label, await _download(xnat, session.id, a.id)
    return "", ""


async def _download(xnat: XnatClient, session_id: str, assessor_id: str) -> str:
    chunks: list[bytes] = []

    async def sink(chunk: bytes) -> None:
        chunks.append(chunk)

    ref = ResourceRef.assessor_output(session_id, assessor_id, "REPORT")
    await xnat.download_file(ref, "report.txt", sink)
    return b"".join(chunks).decode("utf-8", errors="replace")


async def _status(settings: AspiderSettings, console: Console) -> bool:
    """Print the status table; whether every demo task is COMPLETE (and there are some)."""
    async with engine.xnat_client(settings) as xnat:
        snapshot = await xnat.project_snapshot(DEMO_PROJECT)
    print_status(console, snapshot)
    statuses = [a.procstatus for s in snapshot.sessions for a in s.assessors]
    return bool(statuses) and set(statuses) == {"COMPLETE"}


def run_demo(sessions: int = 20, seed: int = 7, console: Console | None = None) -> int:
    """Run the demo; returns the exit code (0 when every task ended COMPLETE)."""
    console = console or Console()
    server = XnatServer()
    generate_project(server, DEMO_PROJECT, sessions=sessions, assessors_per_session=0, seed=seed)
    engine.XNAT_TRANSPORT = httpx.ASGITransport(app=server.app)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aspider-demo-") as tmp:
        settings = demo_settings(Path(tmp))
        procs = load_processors([DEMO_PROCESSORS])
        console.print(
            f"aspider demo: project {DEMO_PROJECT}, {sessions} sessions, processors "
            f"{', '.join(p.proctype for p in procs)}, local executor in {tmp}",
            highlight=False,
        )
        reports = anyio.run(
            lambda: execute_run(
                settings, [DEMO_PROJECT], procs, wait=True, interval=0.3, show_progress=True
            )
        ).reports
        print_summary(console, reports)
        all_complete = anyio.run(_status, settings, console)
        label, text = anyio.run(_report_text, settings)
    elapsed = time.monotonic() - started
    if text:
        console.print(f"\nREPORT of {label}, downloaded from XNAT:", highlight=False)
        console.print(text, highlight=False, markup=False)
    requests = len(server.requests)
    console.print(
        f"{len(reports)} sweep(s), {requests} XNAT requests, {elapsed:.1f} s.\n"
        "Next: `aspider sandbox --sessions 20` serves the same kind of project over HTTP on "
        "127.0.0.1 (admin/admin); point `aspider run` at it with ASPIDER_XNAT__URL, and read "
        "docs/deploy.md for a real cluster.",
        highlight=False,
    )
    failed = any(r.failed for r in reports)
    return 1 if failed or not text or not all_complete else 0
