"""Two engines with different work roots on one project: one job per task, nothing failed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import anyio
import pytest

from aspider import LeaseHeld
from aspider.processors import Processor
from aspider.run.backends import LocalBackend
from aspider.run.sweep import SweepOptions, sweep_project, sweep_until_done
from pbs import LocalTransport
from tests.engine.test_faults import _assessors, _runs, counting
from xnat_client import XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio

__all__ = ["counting"]


async def _jobs_ended(root: Path, labels: list[str]) -> None:
    with anyio.fail_after(60):
        while not all((root / label / "status" / "exit_code").exists() for label in labels):  # noqa: ASYNC110 other processes
            await anyio.sleep(0.05)


async def test_another_work_roots_sweep_leaves_jobs_it_cannot_see_alone(
    server: XnatServer, xnat: XnatClient, counting: Processor, tmp_path: Path
) -> None:
    """Engine B sweeps between A's submission and A's finalize: no JOB_FAILED, no resubmission."""
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=2)
    root_a, root_b = tmp_path / "a", tmp_path / "b"
    async with LocalTransport() as transport:
        a = LocalBackend(transport, str(root_a))
        b = LocalBackend(transport, str(root_b))
        first = await sweep_project(xnat, a, "P1", [counting], SweepOptions())
        labels = [x.task.label for x in first.plan.actions() if x.kind == "submit"]
        assert len(labels) == 3
        await _jobs_ended(root_a, labels)
        seen_by_b = await sweep_project(xnat, b, "P1", [counting], SweepOptions())
        assert seen_by_b.plan.actions() == []
        assert {f.label for s in seen_by_b.plan.sessions for f in s.findings} == set(labels)
        assert {x.procstatus for x in _assessors((await xnat.project_snapshot("P1")).sessions)} == {
            "JOB_RUNNING"
        }
        with anyio.fail_after(60):
            await sweep_until_done(xnat, a, "P1", [counting], interval=0.2, max_sweeps=30)
    ours = _assessors((await xnat.project_snapshot("P1")).sessions)
    assert {x.procstatus for x in ours} == {"COMPLETE"}, [x.note for x in ours]
    assert _runs(root_a) == Counter({x.label: 1 for x in ours})
    assert _runs(root_b) == Counter()


async def test_two_engines_with_different_work_roots_at_once_submit_each_task_once(
    server: XnatServer, xnat: XnatClient, counting: Processor, tmp_path: Path
) -> None:
    """Both sweep again and again at the same time: the lease in XNAT lets one at a time."""
    generate_project(server, "P1", sessions=8, assessors_per_session=0, seed=2)
    server.latency = 0.005  # sweeps long enough to overlap
    roots = [tmp_path / "a", tmp_path / "b"]
    refused: Counter[int] = Counter()

    async def engine(n: int) -> None:
        async with LocalTransport() as transport:
            backend = LocalBackend(transport, str(roots[n]))
            for _ in range(80):
                try:
                    await sweep_project(xnat, backend, "P1", [counting], SweepOptions())
                except LeaseHeld:
                    refused[n] += 1
                ours = _assessors((await xnat.project_snapshot("P1")).sessions)
                if len(ours) == 8 and {x.procstatus for x in ours} == {"COMPLETE"}:
                    return
                await anyio.sleep(0.05)

    with anyio.fail_after(180):
        async with anyio.create_task_group() as tg:
            tg.start_soon(engine, 0)
            tg.start_soon(engine, 1)
    ours = _assessors((await xnat.project_snapshot("P1")).sessions)
    assert {x.procstatus for x in ours} == {"COMPLETE"}, [x.note for x in ours]
    runs = _runs(roots[0]) + _runs(roots[1])
    assert runs == Counter({x.label: 1 for x in ours})
    assert sum(refused.values()) > 0  # they did meet at the lease
