"""`aspider serve` as a process: SIGTERM mid-sweep lets it finish, frees the lease, exits 0."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import anyio
import httpx
import pytest
import yaml
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream

from tests.serve.conftest import (
    PROJECT,
    SUBMITTED,
    archive_session,
    runs_processor,
    statuses,
    until,
)
from xnat_client.sandbox import XnatServer

pytestmark = pytest.mark.anyio

ASPIDER = Path(sys.executable).parent / "aspider"


def _settings_file(tmp_path: Path, xnat_url: str, procs: Path) -> Path:
    path = tmp_path / "settings.yaml"
    data = {
        "processor_paths": [str(procs)],
        "projects": {PROJECT: {}},
        "xnat": {"url": xnat_url, "user": "admin"},
        "cluster": {"executor": "local", "work_root": str(tmp_path / "work")},
        "serve": {"port": 0, "poll_interval": 3600, "settle": 0.1, "sweep_on_start": False},
    }
    path.write_text(yaml.safe_dump(data))
    return path


async def _read_log(process: Process, lines: list[dict[str, str]], ready: anyio.Event) -> None:
    assert process.stderr is not None
    buffered = ""
    async for chunk in TextReceiveStream(process.stderr):
        buffered += chunk
        *complete, buffered = buffered.split("\n")
        for line in complete:
            lines.append(json.loads(line) if line.startswith("{") else {"message": line})
            if lines[-1]["message"].startswith("serving on "):
                ready.set()


async def test_sigterm_during_a_sweep_finishes_it_and_exits_zero(
    server: XnatServer, xnat_url: str, tmp_path: Path
) -> None:
    """The sweep a POST started completes its submission; the lease is released; exit code 0."""
    runs_processor(tmp_path / "procs", tmp_path / "runs.log")
    await archive_session(xnat_url, "S1", "E1")
    server.latency = 0.3  # each XNAT request takes a while: the sweep is in flight for seconds
    settings = _settings_file(tmp_path, xnat_url, tmp_path / "procs")
    env = {**os.environ, "ASPIDER_XNAT__PASSWORD": "admin"}
    argv = [str(ASPIDER), "serve", "--settings", str(settings), "--log-format", "json"]
    lines: list[dict[str, str]] = []
    ready = anyio.Event()
    async with await anyio.open_process(argv, env=env) as process, anyio.create_task_group() as tg:
        tg.start_soon(_read_log, process, lines, ready)
        with anyio.fail_after(30):
            await ready.wait()
        url = lines[-1]["message"].removeprefix("serving on ")
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            assert (await http.post(f"/api/v1/projects/{PROJECT}/sessions/E1")).status_code == 202
        await until(lambda: bool(statuses(server, "E1")))  # created: the sweep is under way
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(60):
            code = await process.wait()
    assert code == 0
    assert set(statuses(server, "E1")) <= SUBMITTED
    assert statuses(server, "E1")
    assert not (tmp_path / "work" / ".aspider" / "leases" / PROJECT).exists()
    assert any(line["message"].startswith("stopping") for line in lines)
