"""The service over real HTTP: a new session is submitted after a POST, or after a poll alone."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

from tests.serve.conftest import (
    PROJECT,
    SUBMITTED,
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


async def _started(url: str) -> None:
    """The start-up sweep is done (the project was read for the page)."""

    async def read() -> bool:
        data = await status_json(url)
        return bool(data["projects"]) and bool(data["projects"][0]["last_sweep"])

    with anyio.fail_after(30):
        while True:
            if await read():
                return
            await anyio.sleep(0.05)


async def test_a_post_gets_a_new_session_submitted_without_a_poll(
    server: XnatServer, xnat_url: str, tmp_path: Path
) -> None:
    """With no poll due for an hour, the POST alone gets the archived session's job submitted."""
    proc = runs_processor(tmp_path / "procs", tmp_path / "runs.log")
    settings = service_settings(xnat_url, tmp_path / "work", poll_interval=3600.0)
    async with running_service(settings, [proc]) as url:
        await _started(url)
        await archive_session(xnat_url, "S1", "E1")
        async with httpx.AsyncClient(base_url=url) as http:
            answer = await http.post(f"/api/v1/projects/{PROJECT}/sessions/E1")
        assert answer.status_code == 202
        assert answer.json()["status"] == f"/api/v1/status?project={PROJECT}"
        await until(lambda: set(statuses(server, "E1")) & SUBMITTED)
        assert await metric(url, 'aspider_events_total{kind="post"}') == 1.0
        assert await metric(url, 'aspider_events_total{kind="change"}') == 0.0


async def test_without_a_post_the_change_poll_finds_the_session(
    server: XnatServer, xnat_url: str, tmp_path: Path
) -> None:
    """No event at all: the next last_modified poll sees the new session and it is submitted."""
    proc = runs_processor(tmp_path / "procs", tmp_path / "runs.log")
    settings = service_settings(xnat_url, tmp_path / "work", poll_interval=1.0)
    async with running_service(settings, [proc]) as url:
        await _started(url)
        await archive_session(xnat_url, "S1", "E1")
        await until(lambda: set(statuses(server, "E1")) & SUBMITTED)
        async with httpx.AsyncClient(base_url=url) as http:
            text = (await http.get("/metrics")).text
        assert 'aspider_events_total{kind="change"} 1.0' in text
        assert 'kind="post"' not in text


async def test_repeated_posts_make_one_task_run_once(
    server: XnatServer, xnat_url: str, tmp_path: Path
) -> None:
    """Ten POSTs of one session at once: one assessor, one job, one run."""
    runs = tmp_path / "runs.log"
    proc = runs_processor(tmp_path / "procs", runs)
    settings = service_settings(xnat_url, tmp_path / "work", follow_interval=0.2)
    async with running_service(settings, [proc]) as url:
        await _started(url)
        await archive_session(xnat_url, "S1", "E1")
        async with httpx.AsyncClient(base_url=url) as http, anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(http.post, f"/api/v1/projects/{PROJECT}/sessions/E1")
        await until(lambda: statuses(server, "E1") == ["COMPLETE"])
        assert runs.read_text().split() == ["E1"]
        assert await metric(url, 'aspider_events_total{kind="post"}') == 10.0
