"""
A sweep's submissions as Slurm job arrays on the loopback cluster: one held array per
processor and request, each element its task's job (`123_7`), followed, retried and cancelled
alone; the jobs' own ledger (`runs.log`) says each task ran once.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import anyio
import pytest

from aspider.plan.retry import read_attempts
from aspider.run.backends import ArrayPolicy, SchedulerBackend
from aspider.run.sweep import sweep_project, sweep_until_done
from pbs import SlurmClient, SshTransport, array_of
from tests.conftest import ClusterProfile
from tests.engine.conftest import shell_processor
from tests.engine.test_faults import COUNTING_SCRIPT
from xnat_client import Assessor, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

# Session 2's job holds 180 MB at once: over its 128 MB request (the cgroup's OOM killer ends
# it), under the 256 MB its retry asks for. The others use next to nothing.
HOGS_IN_SESSION_2 = """|
    echo {assessor} >> "$JOBDIR/../runs.log"
    case {assessor} in *S00002*) python3 -c "b = b'x' * (180 << 20)" || exit 1 ;; esac
    wc -c < "$INDIR/t1.nii.gz" > "$OUTDIR/out.txt"
"""
RETRY_MEMORY = "retry: {attempts: 2, on: [memory], memory_factor: 2}\n"


@pytest.fixture
async def arrays_backend(cluster: ClusterProfile) -> AsyncIterator[SchedulerBackend]:
    """Slurm's own commands over SSH, a sweep's jobs grouped into arrays."""
    root = cluster.work_root / f"e2e-arrays-{uuid.uuid4().hex[:8]}"
    async with SshTransport(cluster.ssh_settings()) as transport:
        client = SlurmClient(transport)
        yield SchedulerBackend(client, str(root), "slurm", arrays=ArrayPolicy())


async def _assessors(xnat: XnatClient, project: str = "P1") -> list[Assessor]:
    snapshot = await xnat.project_snapshot(project)
    return [a for s in snapshot.sessions for a in s.assessors]


def _runs(backend: SchedulerBackend) -> Counter[str]:
    log = Path(str(backend.work_root)) / "runs.log"
    return Counter(log.read_text().split()) if log.exists() else Counter()


def _arrays(job_ids: Sequence[str]) -> Counter[str]:
    return Counter(array_of(job_id) for job_id in job_ids)


async def test_a_40_task_sweep_goes_as_one_array_and_completes(
    server: XnatServer, xnat: XnatClient, arrays_backend: SchedulerBackend, tmp_path: Path
) -> None:
    """40 tasks of one processor: one held array (one sbatch, one release), 40 elements, each
    recorded as its task's job, each run once, all COMPLETE."""
    counting = shell_processor(tmp_path / "processors", "counting", COUNTING_SCRIPT)
    generate_project(server, "P1", sessions=40, assessors_per_session=0, seed=3)
    client = arrays_backend.client
    with anyio.fail_after(240):
        first = await sweep_project(xnat, arrays_backend, "P1", [counting])
        submitted = await _assessors(xnat)
        # squeue (nothing to follow: no command), the array's sbatch, its release
        assert client.scheduler_commands == 2
        await sweep_until_done(xnat, arrays_backend, "P1", [counting], interval=1)
    assert first.outcome.counts[("counting_v1", "submitted")] == 40
    ids = [a.jobid for a in submitted]
    (array,) = _arrays(ids)
    assert sorted(ids) == sorted(f"{array}_{i}" for i in range(40))
    done = await _assessors(xnat)
    assert Counter(a.procstatus for a in done) == Counter({"COMPLETE": 40})
    assert {a.label: a.jobid for a in done} == {a.label: a.jobid for a in submitted}
    assert _runs(arrays_backend) == Counter({a.label: 1 for a in done})


async def test_an_element_killed_for_memory_is_retried_alone_with_more_and_completes(
    server: XnatServer, xnat: XnatClient, arrays_backend: SchedulerBackend, tmp_path: Path
) -> None:
    """Of an array of 3, the element that OUT_OF_MEMORY ends is sent again alone at 256 MB
    (its own job, not an element) and completes; the other two ran once, in the array."""
    hog = shell_processor(tmp_path / "processors", "hog", HOGS_IN_SESSION_2, top=RETRY_MEMORY)
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=5)
    with anyio.fail_after(240):
        await sweep_until_done(xnat, arrays_backend, "P1", [hog], interval=1)
    done = {a.label.split("-x-")[2]: a for a in await _assessors(xnat)}
    assert {s: a.procstatus for s, a in done.items()} == dict.fromkeys(done, "COMPLETE")
    hogger = next(a for s, a in done.items() if "S00002" in s)
    attempts = read_attempts(hogger.note)
    assert attempts is not None, hogger.note
    first, second = attempts.entries
    assert (first.memory_mb, first.cause, second.memory_mb, second.cause) == (
        128,
        "memory",
        256,
        "success",
    )
    others = [a.jobid for a in done.values() if a is not hogger]
    assert len(_arrays([first.job_id or "", *others])) == 1  # attempt 1 was in the array
    assert array_of(hogger.jobid) == hogger.jobid  # attempt 2 is a job of its own
    assert _runs(arrays_backend) == Counter(
        {a.label: 2 if a is hogger else 1 for a in done.values()}
    )


async def test_each_processor_goes_in_an_array_of_its_own(
    server: XnatServer, xnat: XnatClient, arrays_backend: SchedulerBackend, tmp_path: Path
) -> None:
    """Two processors (the same request), 3 sessions: two arrays of 3, one per processor."""
    folder = tmp_path / "processors"
    small = shell_processor(folder, "small", COUNTING_SCRIPT)
    large = shell_processor(folder, "large", COUNTING_SCRIPT)
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=6)
    with anyio.fail_after(120):
        await sweep_project(xnat, arrays_backend, "P1", [small, large])
    by_proctype: dict[str, list[str]] = {}
    for a in await _assessors(xnat):
        by_proctype.setdefault(a.proctype, []).append(a.jobid)
    arrays = {proctype: _arrays(ids) for proctype, ids in by_proctype.items()}
    assert [list(found.values()) for found in arrays.values()] == [[3], [3]]
    assert set(arrays["small_v1"]) != set(arrays["large_v1"])
