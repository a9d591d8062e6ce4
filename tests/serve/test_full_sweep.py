"""POSTs while the full sweep runs: each session's task is created once and its job runs once."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import httpx
import pytest
import yaml

from aspider.processors import load_processors
from tests.serve.conftest import (
    PROJECT,
    archive_session,
    metric,
    running_service,
    runs_processor,
    service_settings,
    status_json,
    statuses,
    until,
)
from xnat_client.sandbox import XnatServer

pytestmark = pytest.mark.anyio

SESSIONS = [f"E{n:02d}" for n in range(12)]
ASPIDER = Path(sys.executable).parent / "aspider"


def _assessors(server: XnatServer) -> list[str]:
    return [a.label for s in server.store.sessions_of(PROJECT) for a in s.assessors.values()]


async def test_posts_during_the_full_sweep_make_no_duplicate(
    server: XnatServer, xnat_url: str, tmp_path: Path
) -> None:
    """Concurrent POSTs of every session (and subject) mid full sweep: one task, one run each."""
    for n, label in enumerate(SESSIONS):
        await archive_session(xnat_url, f"S{n % 4}", label)
    server.latency = 0.1  # a sweep of 12 sessions then takes seconds: time to post during it
    runs = tmp_path / "runs.log"
    proc = runs_processor(tmp_path / "procs", runs)
    settings = service_settings(xnat_url, tmp_path / "work", follow_interval=0.3, settle=0.1)
    async with running_service(settings, [proc]) as url:
        await until(lambda: bool(_assessors(server)))  # the start-up full sweep is creating
        async with httpx.AsyncClient(base_url=url) as http, anyio.create_task_group() as tg:
            for label in SESSIONS:
                tg.start_soon(http.post, f"/api/v1/projects/{PROJECT}/sessions/{label}")
                tg.start_soon(http.post, f"/api/v1/projects/{PROJECT}/subjects/S{label[-1]}")
        during = await status_json(url)
        assert during["projects"] == []  # the full sweep had not finished: nothing read yet
        await until(lambda: all(statuses(server, s) == ["COMPLETE"] for s in SESSIONS), 120)
        assert await metric(url, 'aspider_sweeps_total{kind="full",project="P1"}') == 1.0
        assert await metric(url, 'aspider_events_total{kind="post"}') == 24.0
    assert sorted(runs.read_text().split()) == SESSIONS
    assert len(_assessors(server)) == len(set(_assessors(server))) == len(SESSIONS)


async def test_a_cron_run_beside_the_service_submits_nothing_twice(
    server: XnatServer, xnat_url: str, tmp_path: Path
) -> None:
    """`aspider run` as another process during the service's full sweep: the lease decides."""
    for n, label in enumerate(SESSIONS[:6]):
        await archive_session(xnat_url, f"S{n}", label)
    server.latency = 0.25  # the service's start-up sweep lasts seconds: the run meets it
    runs = tmp_path / "runs.log"
    runs_processor(tmp_path / "procs", runs)
    work = tmp_path / "work"
    settings = service_settings(xnat_url, work, follow_interval=0.3)
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(
        yaml.safe_dump(
            {
                "processor_paths": [str(tmp_path / "procs")],
                "projects": {PROJECT: {}},
                "xnat": {"url": xnat_url, "user": "admin"},
                "cluster": {"executor": "local", "work_root": str(work)},
            }
        )
    )
    env = {**os.environ, "ASPIDER_XNAT__PASSWORD": "admin"}
    argv = [str(ASPIDER), "run", PROJECT, "--settings", str(settings_file), "--json"]
    (proc,) = load_processors([tmp_path / "procs"])
    async with running_service(settings, [proc]):
        cron = await anyio.run_process(argv, env=env, check=False)
        assert cron.returncode in (0, 1), cron.stderr  # 1: it found the lease held
        await until(lambda: all(statuses(server, s) == ["COMPLETE"] for s in SESSIONS[:6]), 120)
    assert sorted(runs.read_text().split()) == SESSIONS[:6]
    assert len(_assessors(server)) == len(set(_assessors(server))) == 6
