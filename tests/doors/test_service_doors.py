"""
The service keeps work a queue limit deferred moving: with no change poll and no nightly sweep
due, every task of a project twice the limit ends COMPLETE, and a restarted service picks the
deferred work up from XNAT without a full sweep.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from aspider.settings import AspiderSettings, load_settings
from tests.conftest import ClusterProfile
from tests.doors.conftest import QUICK
from tests.engine.conftest import shell_processor
from tests.serve.conftest import (
    PROJECT,
    archive_session,
    running_service,
    runs_processor,
    statuses,
    until,
)
from xnat_client.sandbox import XnatServer, serve_tcp

pytestmark = pytest.mark.anyio


@pytest.fixture
def server() -> XnatServer:
    """An empty project the test archives sessions into (over HTTP, as a scanner would)."""
    srv = XnatServer()
    srv.store.add_project(PROJECT)
    return srv


@pytest.fixture
async def xnat_url(server: XnatServer) -> AsyncIterator[str]:
    async with serve_tcp(server) as url:
        yield url


SESSIONS = ("E1", "E2", "E3", "E4")  # twice the limit


def _settings(
    url: str, work: Path, sweep_on_start: bool = True, cluster: dict[str, Any] | None = None
) -> AspiderSettings:
    return load_settings(
        overrides={
            "projects": {PROJECT: {}},
            "xnat": {"url": url, "user": "admin", "password": "admin"},
            "cluster": cluster or {"executor": "local", "work_root": str(work)},
            "limits": {"max_queued": 2},
            "serve": {
                "host": "127.0.0.1",
                "port": 0,
                "poll_interval": 3600.0,  # no change poll in the test's time
                "follow_interval": 0.5,
                "full_sweep_at": "",  # no nightly sweep
                "sweep_on_start": sweep_on_start,
            },
        }
    )


def _all_complete(server: XnatServer) -> bool:
    return all(statuses(server, label) == ["COMPLETE"] for label in SESSIONS)


async def test_deferred_work_is_swept_when_the_queue_has_room(
    server: XnatServer, xnat_url: str, tmp_path: Path
) -> None:
    """Four sessions, max_queued 2: the start-up sweep defers two, the job poll resumes them."""
    for n, label in enumerate(SESSIONS):
        await archive_session(xnat_url, f"S{n}", label)
    proc = runs_processor(tmp_path / "procs", tmp_path / "runs.log")
    async with running_service(_settings(xnat_url, tmp_path / "work"), [proc]):
        await until(lambda: _all_complete(server), limit=60)
    runs = (tmp_path / "runs.log").read_text().split()
    assert sorted(runs) == sorted(SESSIONS)  # each ran once


async def test_deferred_work_moves_on_the_loopback_slurm(
    server: XnatServer, xnat_url: str, tmp_path: Path, cluster: ClusterProfile
) -> None:
    """The same on Slurm over SSH: the job poll's room resumes the deferred sessions."""
    for n, label in enumerate(SESSIONS):
        await archive_session(xnat_url, f"S{n}", label)
    proc = shell_processor(tmp_path / "procs", "quick", QUICK)
    on_slurm = cluster.cluster_settings("slurm", cluster.work_root / f"doors-{tmp_path.name}")
    settings = _settings(xnat_url, tmp_path / "work", cluster=on_slurm)
    async with running_service(settings, [proc]):
        await until(lambda: _all_complete(server), limit=120)


async def test_a_restart_resumes_deferred_work_without_a_full_sweep(
    server: XnatServer, xnat_url: str, tmp_path: Path
) -> None:
    """NEED_TO_RUN tasks a stopped service left: the next one, with no start-up sweep, runs them."""
    for n, label in enumerate(SESSIONS):
        await archive_session(xnat_url, f"S{n}", label)
    proc = runs_processor(tmp_path / "procs", tmp_path / "runs.log")
    work = tmp_path / "work"
    async with running_service(_settings(xnat_url, work), [proc]):
        await until(lambda: sum(s == ["COMPLETE"] for s in map(_of(server), SESSIONS)) >= 2)
    async with running_service(_settings(xnat_url, work, sweep_on_start=False), [proc]):
        await until(lambda: _all_complete(server), limit=60)
    assert sorted((tmp_path / "runs.log").read_text().split()) == sorted(SESSIONS)


def _of(server: XnatServer):  # type: ignore[no-untyped-def]
    return lambda label: statuses(server, label)
