"""The settled-session memo between sweeps: kept in the work root, never hiding a change."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from aspider.processors import Processor
from aspider.run.backends import LocalBackend
from aspider.run.records.settled_store import memo_path
from aspider.run.sweep import SweepOptions, sweep_project, sweep_until_done
from pbs import LocalTransport
from xnat_client import XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio


def _memo_file(root: Path) -> Path:
    """The memo's path (read and written here synchronously: a few hundred bytes)."""
    return Path(memo_path(str(root), "P1"))


async def _settle(
    server: XnatServer, xnat: XnatClient, processors: list[Processor], root: Path
) -> LocalBackend:
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=8)
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(root))
        await sweep_until_done(
            xnat, backend, "P1", processors, SweepOptions(), interval=0.1, max_sweeps=40
        )
    return backend


async def test_a_settled_project_is_remembered_and_a_change_is_still_seen(
    server: XnatServer, xnat: XnatClient, demo_processors: list[Processor], tmp_path: Path
) -> None:
    """After the last sweep the memo holds every session; a QC rerun set since is acted on."""
    with anyio.fail_after(120):
        await _settle(server, xnat, demo_processors, tmp_path)
        memo = json.loads(_memo_file(tmp_path).read_text())
        sessions = {s.id for s in server.store.sessions_of("P1")}
        assert set(memo["sessions"]) == sessions
        target = next(a for a in server.store.assessors_of("P1") if "imgstats" in a.label)
        target.fields["validation/status"] = "Rerun"
        async with LocalTransport() as transport:
            backend = LocalBackend(transport, str(tmp_path))
            report = await sweep_project(xnat, backend, "P1", demo_processors)
    assert next((a.kind, a.task.label) for a in report.plan.actions()) == ("rerun", target.label)
    after = json.loads(_memo_file(tmp_path).read_text())
    assert set(after["sessions"]) == sessions - {target.session_id}


async def test_an_unreadable_memo_is_ignored(
    server: XnatServer, xnat: XnatClient, demo_processors: list[Processor], tmp_path: Path
) -> None:
    """A corrupt memo costs only the shortcut: every session is planned, the memo rewritten."""
    with anyio.fail_after(120):
        await _settle(server, xnat, demo_processors, tmp_path)
        path = _memo_file(tmp_path)
        path.write_text("{not json")
        async with LocalTransport() as transport:
            backend = LocalBackend(transport, str(tmp_path))
            report = await sweep_project(xnat, backend, "P1", demo_processors)
    assert report.plan.actions() == []
    assert len(json.loads(path.read_text())["sessions"]) == 3
