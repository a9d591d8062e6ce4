"""
The loop on the three project shapes that real XNAT answers with its own header shapes (the
server's `raw_empty_headers` is on): an empty project, sessions without assessors, and sessions
shared into the project from another one.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from aspider.processors import Processor
from aspider.run.backends import LocalBackend
from aspider.run.sweep import SweepOptions, sweep_until_done
from pbs import LocalTransport
from xnat_client import XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio


async def _sweep(xnat: XnatClient, project: str, processors: list[Processor], work: Path) -> None:
    with anyio.fail_after(120):
        async with LocalTransport() as transport:
            backend = LocalBackend(transport, str(work))
            await sweep_until_done(
                xnat, backend, project, processors, SweepOptions(), interval=0.2, max_sweeps=60
            )


async def test_empty_project_sweeps_to_nothing(
    server: XnatServer, xnat: XnatClient, demo_processors: list[Processor], tmp_path: Path
) -> None:
    """A project with nothing in it sweeps without error and creates nothing."""
    server.store.add_project("EMPTY")
    await _sweep(xnat, "EMPTY", demo_processors, tmp_path)
    assert list(server.store.assessors_of(None)) == []


async def test_sessions_without_assessors_get_theirs(
    server: XnatServer, xnat: XnatClient, demo_processors: list[Processor], tmp_path: Path
) -> None:
    """A project whose assessor listing is empty (alias-headed) gets every task COMPLETE."""
    generate_project(server, "NEW", sessions=2, assessors_per_session=0, seed=3)
    await _sweep(xnat, "NEW", demo_processors, tmp_path)
    snapshot = await xnat.project_snapshot("NEW")
    done = [a.procstatus for s in snapshot.sessions for a in s.assessors]
    assert done == ["COMPLETE"] * 4


async def test_shared_sessions_are_processed_in_the_sharing_project(
    server: XnatServer, xnat: XnatClient, demo_processors: list[Processor], tmp_path: Path
) -> None:
    """Sessions shared into STUDY are processed there: their assessors belong to STUDY, are
    labelled with STUDY's labels, and the source project gets none."""
    generate_project(server, "SRC", sessions=2, assessors_per_session=0, seed=4)
    store = server.store
    store.add_project("STUDY")
    for n, session in enumerate(list(store.projects["SRC"].sessions.values()), 1):
        store.share(session, "STUDY", f"visit{n}", f"study_subject{n}")
    await _sweep(xnat, "STUDY", demo_processors, tmp_path)
    assessors = list(store.assessors_of("SRC"))
    assert sorted(a.fields["procstatus"] for a in assessors) == ["COMPLETE"] * 4
    assert {a.project for a in assessors} == {"STUDY"}
    assert all(a.label.startswith("STUDY-x-study_subject") for a in assessors)
    source = await xnat.project_snapshot("SRC")
    assert [a for s in source.sessions for a in s.assessors] == []
