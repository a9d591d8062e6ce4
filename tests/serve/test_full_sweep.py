"""POSTs while the full sweep runs: each session's task is created once and its job runs once."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

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
from xnat_client.server import XnatServer

pytestmark = pytest.mark.anyio

SESSIONS = [f"E{n:02d}" for n in range(12)]


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
