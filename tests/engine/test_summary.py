"""The end-of-run summary: "waiting" is what is still waiting, not how often a task waited."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from aspider.cli.report import summary_json, summary_rows
from aspider.plan import PlanLimits
from aspider.processors import Processor
from aspider.run.backends import LocalBackend
from aspider.run.sweep import SweepOptions, sweep_until_done
from pbs import LocalTransport
from tests.engine.conftest import shell_processor
from xnat_client import XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio


async def test_tasks_that_waited_then_ran_are_not_waiting_at_the_end(
    server: XnatServer, xnat: XnatClient, demo_processors: list[Processor], tmp_path: Path
) -> None:
    """One job at a time: reports wait for their statistics, then all complete; 0 waiting."""
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=4)
    options = SweepOptions(limits=PlanLimits(max_queued=1), chain=False)
    with anyio.fail_after(120):
        async with LocalTransport() as transport:
            backend = LocalBackend(transport, str(tmp_path))
            reports = await sweep_until_done(
                xnat, backend, "P1", demo_processors, options, interval=0.1, max_sweeps=80
            )
    waited = sum(r.outcome.counts[("sessreport_v1", "waiting")] for r in reports)
    assert waited > 0  # some report was recorded waiting for its input on the way
    rows = summary_rows(reports)
    assert rows["sessreport_v1"]["completed"] == 3
    assert rows["sessreport_v1"]["waiting"] == 0
    assert summary_json(reports)["by_processor"]["sessreport_v1"]["waiting"] == 0


async def test_tasks_whose_inputs_never_come_are_waiting_at_the_end(
    server: XnatServer, xnat: XnatClient, demo_processors: list[Processor], tmp_path: Path
) -> None:
    """Statistics that fail leave every report waiting: each counted once, however many sweeps."""
    generate_project(server, "P1", sessions=2, assessors_per_session=0, seed=4)
    failing_stats = shell_processor(tmp_path / "processors", "imgstats", "'exit 3'")
    report = next(p for p in demo_processors if p.proctype == "sessreport_v1")
    with anyio.fail_after(60):
        async with LocalTransport() as transport:
            backend = LocalBackend(transport, str(tmp_path / "work"))
            reports = await sweep_until_done(
                xnat, backend, "P1", [failing_stats, report], interval=0.1, max_sweeps=40
            )
    rows = summary_rows(reports)
    assert rows["imgstats_v1"]["failed"] == 2
    assert rows["sessreport_v1"]["created"] == 2
    assert rows["sessreport_v1"]["waiting"] == 2
    assert rows["sessreport_v1"]["submitted"] == 0
