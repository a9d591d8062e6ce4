"""
`aspider demo`: the whole loop, offline, in well under a minute.

The XNAT-compatible server runs in-process with a seeded synthetic project; two small processors
that really run here (per-scan image statistics, and a per-session report that depends on them)
go through the local executor; the engine sweeps until everything is COMPLETE. This package
runs it and returns what happened; `aspider.cli.demo` shows it. It stands on `aspider.run`
and passes the in-process server to it as a `Wiring`, never through a global.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from aspider.processors import Processor, load_processors
from aspider.run import RunProgress, RunResult, Wiring, execute_run
from aspider.settings import AspiderSettings, load_settings
from xnat_client import ProjectSnapshot, ResourceRef, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

DEMO_PROCESSORS = Path(__file__).resolve().parent / "processors"
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


@dataclass
class DemoResult:
    """What the demo did and what XNAT holds afterwards."""

    processors: list[Processor]
    run: RunResult
    snapshot: ProjectSnapshot
    report_label: str
    report_text: str
    requests: int
    seconds: float

    @property
    def all_complete(self) -> bool:
        statuses = [a.procstatus for s in self.snapshot.sessions for a in s.assessors]
        return bool(statuses) and set(statuses) == {"COMPLETE"}

    @property
    def ok(self) -> bool:
        return self.run.ok and bool(self.report_text) and self.all_complete


async def run_demo(
    sessions: int = 20,
    seed: int = 7,
    progress: RunProgress | None = None,
    on_start: Callable[[list[Processor], str], None] | None = None,
) -> DemoResult:
    """Run the whole loop on a fresh synthetic project until every task is COMPLETE."""
    server = XnatServer()
    generate_project(server, DEMO_PROJECT, sessions=sessions, assessors_per_session=0, seed=seed)
    wiring = Wiring(xnat_transport=httpx.ASGITransport(app=server.app))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aspider-demo-") as tmp:
        settings = demo_settings(Path(tmp))
        procs = load_processors([DEMO_PROCESSORS])
        if on_start is not None:
            on_start(procs, tmp)
        result = await execute_run(
            settings,
            [DEMO_PROJECT],
            procs,
            wiring=wiring,
            wait=True,
            interval=0.3,
            progress=progress,
        )
        async with wiring.xnat(settings) as xnat:
            snapshot = await xnat.project_snapshot(DEMO_PROJECT)
            label, text = await _report_text(xnat, snapshot)
    return DemoResult(
        procs, result, snapshot, label, text, len(server.requests), time.monotonic() - started
    )


async def _report_text(xnat: XnatClient, snapshot: ProjectSnapshot) -> tuple[str, str]:
    """One session report as XNAT holds it: (assessor label, text)."""
    for session in snapshot.sessions:
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
