"""Chaining: a downstream task is submitted in the sweep that completes its upstream task."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote_plus

import anyio
import pytest

from aspider.plan import PlanLimits
from aspider.processors import Processor
from aspider.run.backends import LocalBackend
from aspider.run.sweep import SweepOptions, SweepReport, sweep_project
from pbs import LocalTransport
from xnat_client import XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio


async def _jobs_ended(work_root: Path, labels: list[str]) -> None:
    with anyio.fail_after(60):
        ended = [work_root / label / "status" / "exit_code" for label in labels]
        while not all(path.exists() for path in ended):  # noqa: ASYNC110 - other processes
            await anyio.sleep(0.05)


async def _two_sweeps(
    xnat: XnatClient, processors: list[Processor], work_root: Path, options: SweepOptions
) -> SweepReport:
    """Sweep 1 submits the statistics jobs; once they end, sweep 2 (with `options`) is returned."""
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(work_root))
        first = await sweep_project(xnat, backend, "P1", processors, SweepOptions())
        submitted = [a.task.label for a in first.plan.actions() if a.kind == "submit"]
        assert len(submitted) == 3
        await _jobs_ended(work_root, submitted)
        return await sweep_project(xnat, backend, "P1", processors, options)


async def test_downstream_is_submitted_in_the_sweep_that_completes_upstream(
    server: XnatServer, xnat: XnatClient, demo_processors: list[Processor], tmp_path: Path
) -> None:
    """Sweep 2 finalizes imgstats, then readies and submits each session's report at once."""
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=4)
    with anyio.fail_after(120):
        second = await _two_sweeps(xnat, demo_processors, tmp_path, SweepOptions())
    counts = second.outcome.counts
    assert counts[("imgstats_v1", "completed")] == 3
    assert counts[("sessreport_v1", "submitted")] == 3
    assert not second.outcome.failures
    snap = await xnat.project_snapshot("P1")
    reports = [a for s in snap.sessions for a in s.assessors if a.proctype == "sessreport_v1"]
    assert sorted(a.procstatus for a in reports) == ["JOB_RUNNING"] * 3
    assert all(a.jobid for a in reports)


async def test_a_chained_report_is_created_ready_in_one_write(
    server: XnatServer, xnat: XnatClient, demo_processors: list[Processor], tmp_path: Path
) -> None:
    """Each task is created once, with its intent: no NEED_INPUTS or NEED_TO_RUN write first."""
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=4)
    with anyio.fail_after(120):
        second = await _two_sweeps(xnat, demo_processors, tmp_path, SweepOptions())
    assert second.outcome.counts[("sessreport_v1", "submitted")] == 3
    creates = [
        unquote_plus(r.query).split("procstatus=")[1].split("&")[0]
        for r in server.requests
        if r.method == "PUT" and "proctype=" in unquote_plus(r.query)
    ]
    assert creates == ["JOB_RUNNING"] * 6  # three statistics, three reports


async def test_a_chained_report_stages_from_the_listing_that_verified_its_input(
    server: XnatServer, xnat: XnatClient, demo_processors: list[Processor], tmp_path: Path
) -> None:
    """The statistics the sweep has just uploaded and listed are staged for the report without
    listing their resource again; the download itself still comes from XNAT."""
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=4)
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(tmp_path))
        first = await sweep_project(xnat, backend, "P1", demo_processors, SweepOptions())
        await _jobs_ended(tmp_path, [a.task.label for a in first.plan.actions()])
        server.requests.clear()
        second = await sweep_project(xnat, backend, "P1", demo_processors, SweepOptions())
    assert second.outcome.counts[("sessreport_v1", "submitted")] == 3
    gets = [r.path for r in server.requests if r.method == "GET"]
    assert sum(p.endswith("/out/files") for p in gets) == 3  # one verification per upload
    assert not [p for p in gets if p.endswith("/out/resources/STATS/files")]
    assert sum(p.endswith("/out/resources/STATS/files/stats.txt") for p in gets) == 3


async def test_chained_submissions_stay_within_the_queue_limit(
    server: XnatServer, xnat: XnatClient, demo_processors: list[Processor], tmp_path: Path
) -> None:
    """max_queued 2 in sweep 2: two reports are chained and submitted, the third only readied."""
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=4)
    options = SweepOptions(limits=PlanLimits(max_queued=2))
    with anyio.fail_after(120):
        second = await _two_sweeps(xnat, demo_processors, tmp_path, options)
    assert second.outcome.counts[("imgstats_v1", "completed")] == 3
    assert second.outcome.counts[("sessreport_v1", "submitted")] == 2
    snap = await xnat.project_snapshot("P1")
    reports = [a for s in snap.sessions for a in s.assessors if a.proctype == "sessreport_v1"]
    assert sorted(a.procstatus for a in reports) == ["JOB_RUNNING", "JOB_RUNNING", "NEED_TO_RUN"]


async def test_without_chaining_the_report_waits_for_the_next_sweep(
    server: XnatServer, xnat: XnatClient, demo_processors: list[Processor], tmp_path: Path
) -> None:
    """chain=False: sweep 2 creates the reports NEED_INPUTS and submits none of them."""
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=4)
    with anyio.fail_after(120):
        second = await _two_sweeps(xnat, demo_processors, tmp_path, SweepOptions(chain=False))
    assert second.outcome.counts[("sessreport_v1", "submitted")] == 0
    snap = await xnat.project_snapshot("P1")
    reports = [a for s in snap.sessions for a in s.assessors if a.proctype == "sessreport_v1"]
    assert sorted(a.procstatus for a in reports) == ["NEED_INPUTS"] * 3
