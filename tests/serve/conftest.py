"""Fixtures for the service: the XNAT-compatible server over TCP, settings, `serve` in-process."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from aspider.processors import Processor, load_processors
from aspider.serve import serve
from aspider.settings import AspiderSettings, load_settings
from tests.engine.conftest import T1_SHELL_PROCESSOR
from xnat_client.sandbox import StoredSession, XnatServer, serve_tcp

PROJECT = "P1"
NIFTI = gzip.compress(bytes(352) + bytes(range(256)) * 4)
SUBMITTED = {"JOB_RUNNING", "READY_TO_UPLOAD", "UPLOADING", "COMPLETE", "JOB_FAILED"}


@pytest.fixture
def server() -> XnatServer:
    server = XnatServer()
    server.store.add_project(PROJECT)
    return server


@pytest.fixture
async def xnat_url(server: XnatServer) -> AsyncIterator[str]:
    async with serve_tcp(server) as url:
        yield url


def runs_processor(folder: Path, runs: Path, fail_on: str = "") -> Processor:
    """A scan-level T1 processor whose job appends its session to `runs` (one line a run)."""
    folder.mkdir(parents=True, exist_ok=True)
    fail = (
        f"case {{session}} in {fail_on}) echo no brain found >&2; exit 3;; esac; "
        if fail_on
        else ""
    )
    script = f"'{fail}echo {{session}} >> {runs}; echo ok > \"$OUTDIR/out.txt\"'"
    path = folder / "runs_v1.0.0.yaml"
    path.write_text(T1_SHELL_PROCESSOR % script)
    (processor,) = load_processors([path])
    return processor


def service_settings(url: str, work: Path, **serve_fields: Any) -> AspiderSettings:
    fields = {"host": "127.0.0.1", "port": 0, "poll_interval": 3600.0, "settle": 0.2}
    fields.update(serve_fields)
    return load_settings(
        overrides={
            "projects": {PROJECT: {}},
            "xnat": {"url": url, "user": "admin", "password": "admin"},
            "cluster": {"executor": "local", "work_root": str(work)},
            "limits": {"max_queued": 50},
            "serve": fields,
        }
    )


@asynccontextmanager
async def running_service(
    settings: AspiderSettings, processors: Sequence[Processor]
) -> AsyncIterator[str]:
    """`aspider serve` in this event loop on 127.0.0.1; yields its URL, stops it on exit."""
    stop = anyio.Event()
    urls: list[str] = []
    ready = anyio.Event()

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    run = partial(
        serve,
        settings,
        processors,
        sorted(settings.projects),
        stop=stop,
        on_ready=on_ready,
        signals=False,
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        with anyio.fail_after(10):
            await ready.wait()
        try:
            yield urls[0]
        finally:
            stop.set()


async def archive_session(xnat_url: str, subject: str, label: str) -> str:
    """Put a session with one T1w NIFTI scan into XNAT over its REST API; its ID."""
    async with httpx.AsyncClient(base_url=xnat_url, auth=("admin", "admin")) as http:
        base = f"/data/projects/{PROJECT}/subjects/{subject}"
        (await http.put(base)).raise_for_status()
        made = await http.put(
            f"{base}/experiments/{label}", params={"xsiType": "xnat:mrSessionData"}
        )
        made.raise_for_status()
        sid = made.text.strip()
        scan = f"/data/experiments/{sid}/scans/1"
        (
            await http.put(scan, params={"xsiType": "xnat:mrScanData", "type": "T1w"})
        ).raise_for_status()
        (await http.put(f"{scan}/resources/NIFTI", params={"format": "NIFTI"})).raise_for_status()
        upload = f"{scan}/resources/NIFTI/files/t1.nii.gz"
        (await http.put(upload, params={"inbody": "true"}, content=NIFTI)).raise_for_status()
    return sid


def statuses(server: XnatServer, label: str) -> list[str]:
    """The procstatus of every assessor of the session `label`."""
    session = _session(server, label)
    return [a.fields.get("procstatus", "") for a in session.assessors.values()] if session else []


def _session(server: XnatServer, label: str) -> StoredSession | None:
    return next((s for s in server.store.sessions_of(PROJECT) if s.label == label), None)


async def until(check: Any, limit: float = 60.0) -> None:
    """Wait until `check()` is true, looking every 50 ms; fails after `limit` (a hang guard)."""
    with anyio.fail_after(limit):
        while True:
            if check():
                return
            await anyio.sleep(0.05)


async def status_json(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.get("/api/v1/status")
        answer.raise_for_status()
        data: dict[str, Any] = answer.json()
        return data


async def metric(url: str, name: str) -> float:
    """The sum of every sample of metric `name` in /metrics."""
    async with httpx.AsyncClient(base_url=url) as http:
        text = (await http.get("/metrics")).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            head, _, value = line.rpartition(" ")
            if head == name or head.startswith(name + "{"):
                total += float(value)
    return total
