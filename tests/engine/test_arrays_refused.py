"""
Job arrays' error paths, on local jobs: a scheduler that refuses an array gets its jobs one by
one, and one that cannot be reached leaves every task due for the next sweep. (The arrays
themselves run on the loopback Slurm: tests/e2e/test_arrays.py.)
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import anyio
import pytest

from aspider.processors import Processor
from aspider.run.backends import ArrayPolicy, LocalBackend
from aspider.run.sweep import sweep_project, sweep_until_done
from pbs import ArraySpec, JobTemplate, LocalTransport, SchedulerUnavailable, SubmitFailed
from tests.engine.conftest import shell_processor
from tests.engine.test_faults import COUNTING_SCRIPT
from xnat_client import XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio


class RefusesArrays(LocalBackend):
    """Local jobs, on a 'scheduler' that has arrays but refuses every one (`error`)."""

    def __init__(self, transport: LocalTransport, root: str, error: type[SubmitFailed]) -> None:
        super().__init__(transport, root)
        self.arrays = ArrayPolicy()
        self.error = error
        self.refused: list[int] = []

    async def submit_array(
        self, array: ArraySpec, template: JobTemplate | None = None
    ) -> list[str]:
        self.refused.append(len(array.elements))
        raise self.error(["sbatch", "--array=0-2"], 1, "", "Invalid job array specification")


@pytest.fixture
def counting(tmp_path: Path) -> Processor:
    return shell_processor(tmp_path / "processors", "counting", COUNTING_SCRIPT)


def _runs(root: Path) -> Counter[str]:
    log = root / "runs.log"
    return Counter(log.read_text().split()) if log.exists() else Counter()


async def test_a_refused_array_sends_its_jobs_one_by_one(
    server: XnatServer, xnat: XnatClient, counting: Processor, tmp_path: Path
) -> None:
    """The array of 3 is refused (say, over the site's MaxArraySize): its 3 jobs go alone,
    each recorded, run once and COMPLETE."""
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=2)
    root = tmp_path / "work"
    async with LocalTransport() as transport:
        backend = RefusesArrays(transport, str(root), SubmitFailed)
        with anyio.fail_after(60):
            await sweep_until_done(xnat, backend, "P1", [counting], interval=0.2)
    assert backend.refused == [3]
    done = [a for s in (await xnat.project_snapshot("P1")).sessions for a in s.assessors]
    assert Counter(a.procstatus for a in done) == Counter({"COMPLETE": 3})
    assert _runs(root) == Counter({a.label: 1 for a in done})


async def test_an_unreachable_scheduler_leaves_the_arrays_tasks_due(
    server: XnatServer, xnat: XnatClient, counting: Processor, tmp_path: Path
) -> None:
    """The array's sbatch never reached the controller: no job, each task NEED_TO_RUN with
    why, for the next sweep to submit (not JOB_FAILED, not submitted alone in a hurry)."""
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=2)
    async with LocalTransport() as transport:
        backend = RefusesArrays(transport, str(tmp_path / "work"), SchedulerUnavailable)
        with anyio.fail_after(60):
            report = await sweep_project(xnat, backend, "P1", [counting])
    assert backend.refused == [3]
    assert len(report.outcome.transient) == 3
    done = [a for s in (await xnat.project_snapshot("P1")).sessions for a in s.assessors]
    assert {(a.procstatus, a.jobid) for a in done} == {("NEED_TO_RUN", "")}
    assert all(a.note.startswith("submission did not reach the scheduler") for a in done)
    assert not _runs(tmp_path / "work")
