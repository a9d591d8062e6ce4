"""
`aspider serve` as a process, as its operators read it: one record per event received or
refused, per sweep started or ended, per work deferred or resumed, per task left waiting, each
with its reason; in JSON the facts are keys, in text each record is one line.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import yaml
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream

from aspider.plan import Plan, PlanLimits
from aspider.serve.service_log import deferral_reason
from tests.engine.conftest import T1_SHELL_PROCESSOR, shell_processor
from tests.serve.conftest import PROJECT, archive_session, runs_processor, statuses, until
from xnat_client.sandbox import XnatServer

pytestmark = pytest.mark.anyio

ASPIDER = Path(sys.executable).parent / "aspider"
SESSIONS = ("E1", "E2", "E3", "E4")  # twice the queue limit
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d (DEBUG|INFO|WARNING|ERROR) \S+: ")
LABEL_RULE = "names must be XNAT IDs or labels: [A-Za-z0-9_-], 1-255 long"
SERVING = re.compile(r"serving on (http://[^\s\"]+)")


def _processors(folder: Path, runs: Path) -> None:
    """`runs` (runs on the T1w NIFTI) and `nofile` (wants a *.mgz no session has: waits)."""
    runs_processor(folder, runs)
    (folder / "nofile_v1.0.0.yaml").write_text(
        T1_SHELL_PROCESSOR.replace("'*.nii.gz'", "'*.mgz'") % "'true'"
    )


def _settings_file(tmp_path: Path, xnat_url: str) -> Path:
    path = tmp_path / "settings.yaml"
    data = {
        "processor_paths": [str(tmp_path / "procs")],
        "projects": {PROJECT: {}},
        "xnat": {"url": xnat_url, "user": "admin"},
        "cluster": {"executor": "local", "work_root": str(tmp_path / "work")},
        "limits": {"max_queued": 2},
        "serve": {
            "port": 0,
            "poll_interval": 3600,  # no change poll in the test's time
            "follow_interval": 0.3,
            "settle": 0.1,
            "full_sweep_at": "",
            "sweep_on_start": True,
        },
    }
    path.write_text(yaml.safe_dump(data))
    return path


class ServiceLog:
    """The stderr lines of a running `aspider serve`, and its URL once it listens."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.url = ""
        self.ready = anyio.Event()

    async def read(self, process: Process) -> None:
        assert process.stderr is not None
        buffered = ""
        async for chunk in TextReceiveStream(process.stderr):
            buffered += chunk
            *complete, buffered = buffered.split("\n")
            for line in complete:
                self.lines.append(line)
                found = SERVING.search(line)
                if found and not self.ready.is_set():
                    self.url = found.group(1)
                    self.ready.set()
        if buffered:
            self.lines.append(buffered)

    def records(self) -> list[dict[str, Any]]:
        """Every line as the JSON object it must be."""
        return [json.loads(line) for line in self.lines]

    def of(self, record: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("record") == record]


@asynccontextmanager
async def aspider_serve(settings: Path, log_format: str) -> AsyncIterator[ServiceLog]:
    """`aspider serve` as a process until the block ends, then SIGTERM; exits 0."""
    env = {**os.environ, "ASPIDER_XNAT__PASSWORD": "admin"}
    argv = [str(ASPIDER), "serve", "--settings", str(settings), "--log-format", log_format]
    log = ServiceLog()
    async with await anyio.open_process(argv, env=env) as process, anyio.create_task_group() as tg:
        tg.start_soon(log.read, process)
        try:
            with anyio.fail_after(30):
                await log.ready.wait()
            yield log
        finally:
            process.send_signal(signal.SIGTERM)
            with anyio.fail_after(60):
                code = await process.wait()
    assert code == 0, "\n".join(log.lines)


def _ran_one(server: XnatServer) -> bool:
    return "COMPLETE" in statuses(server, "E1")


def _ran(server: XnatServer) -> bool:
    """Every session's `runs` task is COMPLETE (its `nofile` task waits)."""
    return all("COMPLETE" in statuses(server, label) for label in SESSIONS)


async def _post(url: str, path: str) -> int:
    async with httpx.AsyncClient(base_url=url) as http:
        return (await http.post(path)).status_code


async def test_json_records_say_what_the_service_did_and_why(
    server: XnatServer, xnat_url: str, tmp_path: Path
) -> None:
    """Events, refusals, sweeps with counts, deferral, resumption, waiting: each a keyed record."""
    _processors(tmp_path / "procs", tmp_path / "runs.log")
    for n, label in enumerate(SESSIONS):
        await archive_session(xnat_url, f"S{n}", label)
    async with aspider_serve(_settings_file(tmp_path, xnat_url), "json") as log:
        await until(lambda: bool(log.of("sweep_ended")))  # the start-up sweep
        assert await _post(log.url, "/api/v1/projects/NOPE/sessions/E1") == 404
        assert await _post(log.url, f"/api/v1/projects/{PROJECT}/sessions/a%0Ab") == 400
        assert await _post(log.url, f"/api/v1/projects/{PROJECT}/sessions/E1") == 202
        await until(lambda: _ran(server))
        await until(lambda: bool(log.of("work_resumed")))
    (received,) = log.of("event_received")
    assert (received["project"], received["target"], received["name"]) == (PROJECT, "session", "E1")
    refused, hostile = log.of("event_refused")
    assert (refused["reason"], refused["status"], refused["project"]) == ("project", 404, "NOPE")
    assert refused["detail"] == "project is not configured in this service"
    assert (hostile["reason"], hostile["status"]) == ("label", 400)
    assert "name" not in hostile  # not a label: never logged

    started, ended = log.of("sweep_started")[0], log.of("sweep_ended")[0]
    assert (started["project"], started["kind"], started["sessions"]) == (PROJECT, "full", [])
    # E1's two tasks fill the queue (its `nofile` one then waits): the others' six are deferred.
    counts = {k: ended[k] for k in ("created", "submitted", "completed", "deferred", "failed")}
    assert counts == {"created": 8, "submitted": 1, "completed": 0, "deferred": 6, "failed": 0}
    assert (ended["kind"], ended["done"], ended["sessions_planned"]) == ("full", True, 4)
    assert isinstance(ended["seconds"], float)
    assert any(r["kind"] == "sessions" and "E1" in r["sessions"] for r in log.of("sweep_started"))
    assert sum(r.get("completed", 0) for r in log.of("sweep_ended")) == len(SESSIONS)

    deferred = log.of("work_deferred")[0]
    assert (deferred["project"], deferred["tasks"], deferred["max_queued"]) == (PROJECT, 6, 2)
    assert len(deferred["labels"]) == 6
    assert deferred["reason"] == "the queue is full: 2 job(s) queued or running (max_queued 2)"
    resumed = log.of("work_resumed")[0]
    assert resumed["project"] == PROJECT
    assert set(resumed["sessions"]) <= set(SESSIONS)
    assert re.fullmatch(
        r"room in the queue: [01] job\(s\) queued or running \(max_queued 2\)", resumed["reason"]
    )

    waiting = [r for r in log.records() if r.get("action") == "waiting"]
    assert {r["proctype"] for r in waiting} == {"nofile_v1"}
    said = {r["session"]: r["reason"] for r in waiting if "reason" in r}  # the first time, at least
    assert said == dict.fromkeys(SESSIONS, "scan_t1: resource NIFTI has no file matching *.mgz")


async def test_text_records_are_one_line_each_with_their_reasons(
    server: XnatServer, xnat_url: str, tmp_path: Path
) -> None:
    """Text to a pipe: every line a whole record, a refused name's newline not among them."""
    _processors(tmp_path / "procs", tmp_path / "runs.log")
    await archive_session(xnat_url, "S1", "E1")
    async with aspider_serve(_settings_file(tmp_path, xnat_url), "text") as log:
        assert await _post(log.url, f"/api/v1/projects/{PROJECT}/sessions/a%0Ab") == 400
        await until(lambda: _ran_one(server) and any("sweep of P1 ended" in x for x in log.lines))
    assert [line for line in log.lines if not ISO.match(line)] == []
    (refused,) = [line for line in log.lines if "event refused" in line]
    assert refused.endswith("event refused: 400 label: " + LABEL_RULE)
    waiting = [line for line in log.lines if "aspider.actions: waiting " in line]
    assert waiting[0].endswith(": scan_t1: resource NIFTI has no file matching *.mgz")
    (ended,) = [line for line in log.lines if "full sweep of P1 ended" in line]
    assert ": 2 created, 1 submitted, 0 adopted, 0 completed, 0 failed, " in ended


def test_a_deferral_names_the_limit_it_met(tmp_path: Path) -> None:
    """The whole queue's limit when it is reached, else the processors at their own."""
    proc = shell_processor(tmp_path, "quick", "'true'", top="max_queued: 1\n")
    plan = Plan((), deferred=("a", "b"), in_queue=1, in_queue_per_processor=(("quick_v1", 1),))
    by_processor = deferral_reason(plan, PlanLimits(max_queued=10), [proc])
    assert by_processor == "a processor's queue is full: quick_v1 (max_queued 1)"
    whole = deferral_reason(plan, PlanLimits(max_queued=3, elsewhere=2), [proc])
    assert whole == "the queue is full: 3 job(s) queued or running (max_queued 3)"
