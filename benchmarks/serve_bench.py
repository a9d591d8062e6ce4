"""
`aspider serve` end to end: how soon a new session's job is submitted, and what the idle
service costs XNAT.

The XNAT-compatible server runs in this process over real TCP with `--latency` (default 20 ms)
added to every answer; `aspider serve` runs as its own process (local executor, the demo's
processors). A session is "archived" through XNAT's REST API (subject, session, a T1w scan, its
NIFTI resource and file); it is "submitted" when one of its assessors has a job id recorded.

    post      20 sessions one after another: archive, POST, time until submitted
    archive   20 sessions archived at staggered times with no POST: the poll finds them
    idle      a settled project, nothing new: XNAT requests the service sends per hour

    .venv/bin/python -m benchmarks.serve_bench                       # all three
    .venv/bin/python -m benchmarks.serve_bench --scenario idle --idle-seconds 600
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import yaml
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream

from xnat_client.sandbox import XnatServer, serve_tcp

PROJECT = "BENCH"
DEMO = Path(__file__).resolve().parents[1] / "aspider" / "demo" / "processors"
ASPIDER = Path(sys.executable).parent / "aspider"
NIFTI = gzip.compress(bytes(352) + bytes(range(256)) * 64)


async def archive(xnat_url: str, subject: str, label: str) -> None:
    """A new session with one T1w NIFTI scan, through XNAT's REST API (6 requests)."""
    async with httpx.AsyncClient(base_url=xnat_url, auth=("admin", "admin")) as http:
        base = f"/data/projects/{PROJECT}/subjects/{subject}"
        (await http.put(base)).raise_for_status()
        made = await http.put(
            f"{base}/experiments/{label}", params={"xsiType": "xnat:mrSessionData"}
        )
        sid = made.text.strip()
        scan = f"/data/experiments/{sid}/scans/1"
        await http.put(scan, params={"xsiType": "xnat:mrScanData", "type": "T1w"})
        await http.put(f"{scan}/resources/NIFTI", params={"format": "NIFTI"})
        files = f"{scan}/resources/NIFTI/files/t1.nii.gz"
        (await http.put(files, params={"inbody": "true"}, content=NIFTI)).raise_for_status()


def submitted(server: XnatServer, label: str) -> bool:
    for session in server.store.sessions_of(PROJECT):
        if session.label == label:
            return any(a.fields.get("jobid") for a in session.assessors.values())
    return False


async def wait_submitted(server: XnatServer, label: str, limit: float) -> float:
    start = time.monotonic()
    with anyio.fail_after(limit):
        while not submitted(server, label):  # noqa: ASYNC110 - another process writes it
            await anyio.sleep(0.01)
    return time.monotonic() - start


@asynccontextmanager
async def service(xnat_url: str, work: Path, **serve: Any) -> AsyncIterator[str]:
    """`aspider serve` as a process; yields its URL; SIGTERM at the end."""
    data = {
        "processor_paths": [str(DEMO)],
        "projects": {PROJECT: {}},
        "xnat": {"url": xnat_url, "user": "admin"},
        "cluster": {"executor": "local", "work_root": str(work / "jobs")},
        "limits": {"max_queued": 100},
        "serve": {"port": 0, **serve},
    }
    settings = _write_settings(work, data)
    env = {**os.environ, "ASPIDER_XNAT__PASSWORD": "admin"}
    argv = [str(ASPIDER), "serve", "--settings", str(settings), "--log-format", "json"]
    ready, urls = anyio.Event(), []
    async with await anyio.open_process(argv, env=env) as process, anyio.create_task_group() as tg:
        tg.start_soon(_read_log, process, urls, ready)
        with anyio.fail_after(60):
            await ready.wait()
        await _start_sweep_done(urls[0])
        try:
            yield urls[0]
        finally:
            process.terminate()
            with anyio.fail_after(90):
                await process.wait()


def _write_settings(work: Path, data: dict[str, Any]) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    path = work / "settings.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


async def _read_log(process: Process, urls: list[str], ready: anyio.Event) -> None:
    assert process.stderr is not None
    buffered = ""
    async for chunk in TextReceiveStream(process.stderr):
        buffered += chunk
        *lines, buffered = buffered.split("\n")
        for line in lines:
            message = json.loads(line)["message"] if line.startswith("{") else line
            if message.startswith("serving on "):
                urls.append(message.removeprefix("serving on "))
                ready.set()
            elif "error" in line.lower():
                print("serve:", message, file=sys.stderr)


async def _start_sweep_done(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        with anyio.fail_after(120):
            while True:
                projects = (await http.get("/api/v1/status")).json()["projects"]
                if projects and projects[0]["last_sweep"]:
                    return
                await anyio.sleep(0.1)


def summary(name: str, seconds: list[float]) -> dict[str, Any]:
    return {
        "scenario": name,
        "sessions": len(seconds),
        "median_s": round(statistics.median(seconds), 3),
        "max_s": round(max(seconds), 3),
        "min_s": round(min(seconds), 3),
    }


async def post_scenario(server: XnatServer, url: str, n: int, work: Path) -> dict[str, Any]:
    found = []
    running = service(url, work, poll_interval=3600)
    async with running as api, httpx.AsyncClient(base_url=api) as http:
        for i in range(n):
            label = f"POST{i:02d}"
            await archive(url, f"PS{i:02d}", label)
            start = time.monotonic()
            answer = await http.post(f"/api/v1/projects/{PROJECT}/sessions/{label}")
            assert answer.status_code == 202, answer.text
            await wait_submitted(server, label, 60)
            found.append(time.monotonic() - start)
    return summary("post", found)


async def archive_scenario(
    server: XnatServer, url: str, n: int, interval: float, work: Path
) -> dict[str, Any]:
    found: list[float] = []
    async with service(url, work, poll_interval=interval), anyio.create_task_group() as tg:

        async def one(i: int) -> None:
            label = f"ARCH{i:02d}"
            await archive(url, f"AS{i:02d}", label)
            found.append(await wait_submitted(server, label, interval + 60))

        for i in range(n):  # staggered so arrivals fall at every point of the poll cycle
            tg.start_soon(one, i)
            await anyio.sleep(interval * 0.37)
    result = summary("archive", found)
    result["poll_interval_s"] = interval
    return result


def all_complete(server: XnatServer) -> bool:
    found = [a.fields.get("procstatus") for a in server.store.assessors_of(PROJECT)]
    return bool(found) and set(found) == {"COMPLETE"}


async def idle_scenario(server: XnatServer, url: str, seconds: float, work: Path) -> dict[str, Any]:
    """20 sessions swept to COMPLETE at start; then nothing changes: count what is sent."""
    for i in range(20):
        await archive(url, f"IS{i:02d}", f"IDLE{i:02d}")
    async with service(url, work) as api:  # defaults: poll 60 s, job poll 30 s
        with anyio.fail_after(300):
            while not all_complete(server):  # noqa: ASYNC110 - another process does the work
                await anyio.sleep(0.5)
        await anyio.sleep(35)  # the last job poll and its sweep have been
        before = len(server.requests)
        await anyio.sleep(seconds)
        sent = len(server.requests) - before
        async with httpx.AsyncClient(base_url=api) as http:
            projects = (await http.get("/api/v1/status")).json()["projects"]
    return {
        "scenario": "idle",
        "seconds": seconds,
        "requests": sent,
        "requests_per_hour": round(sent * 3600 / seconds),
        "projects": len(projects),
    }


async def main(args: argparse.Namespace) -> None:
    server = XnatServer(latency=args.latency)
    server.store.add_project(PROJECT)
    async with serve_tcp(server) as url:
        with tempfile.TemporaryDirectory(prefix="aspider-serve-bench-") as tmp:
            root = Path(tmp)
            results = []
            if args.scenario in ("all", "post"):
                results.append(await post_scenario(server, url, args.sessions, root / "post"))
            if args.scenario in ("all", "archive"):
                results.append(
                    await archive_scenario(server, url, args.sessions, args.poll, root / "arch")
                )
            if args.scenario in ("all", "idle"):
                results.append(await idle_scenario(server, url, args.idle_seconds, root / "idle"))
    for r in results:
        print(json.dumps(r))


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=["all", "post", "archive", "idle"], default="all")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--poll", type=float, default=15.0, help="poll_interval for 'archive'")
    parser.add_argument("--idle-seconds", type=float, default=300.0)
    return parser.parse_args()


if __name__ == "__main__":
    anyio.run(main, _args())
