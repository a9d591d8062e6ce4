"""
Retries on the local backend: a job that dies without a word (its whole process group killed,
`lost`) is submitted again by the next sweep under its retry policy, each attempt recorded.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from aspider.plan.retry import read_attempts
from aspider.run.backends import LocalBackend
from aspider.run.sweep import sweep_until_done
from pbs import LocalTransport
from tests.engine.conftest import shell_processor
from xnat_client import XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio

# The first run of each task kills its own process group (the wrapper too: no exit code, no
# end recorded); later runs succeed. A marker beside the job directory counts the runs.
DIES_ONCE = """|
    echo run >> "$JOBDIR.runs"
    if [ "$(wc -l < "$JOBDIR.runs")" -eq 1 ]; then kill -KILL 0; fi
    echo ok > "$OUTDIR/out.txt"
"""
ALWAYS_DIES = """|
    echo run >> "$JOBDIR.runs"
    kill -KILL 0
"""
RETRY_LOST = "retry: {attempts: 2, on: [lost], walltime_factor: 2}\n"


async def _run(xnat: XnatClient, root: Path, script: str) -> None:
    processor = shell_processor(root.parent / "processors", "fragile", script, RETRY_LOST)
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(root))
        with anyio.fail_after(60):
            await sweep_until_done(xnat, backend, "P1", [processor], interval=0.2, max_sweeps=60)


async def test_a_lost_job_is_submitted_again_and_completes_with_both_attempts(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """Attempt 1 dies, attempt 2 (same request: lost is no resource kill) completes."""
    generate_project(server, "P1", sessions=2, assessors_per_session=0, seed=3)
    root = tmp_path / "work"
    await _run(xnat, root, DIES_ONCE)
    ours = [a for s in (await xnat.project_snapshot("P1")).sessions for a in s.assessors]
    assert len(ours) == 2
    for a in ours:
        assert a.procstatus == "COMPLETE", a.note
        attempts = read_attempts(a.note)
        assert attempts is not None, a.note
        first, second = attempts.entries
        assert (first.cause, second.cause) == ("lost", "success")
        assert second.job_id == a.jobid != first.job_id
        assert first.walltime_seconds == second.walltime_seconds == 300
        assert (root / f"{a.label}.runs").read_text() == "run\nrun\n"


async def test_a_job_lost_on_every_attempt_fails_with_each_cause(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """Both attempts die: JOB_FAILED, the note listing both jobs as lost, and ran twice only."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=3)
    root = tmp_path / "work"
    await _run(xnat, root, ALWAYS_DIES)
    (a,) = [a for s in (await xnat.project_snapshot("P1")).sessions for a in s.assessors]
    assert a.procstatus == "JOB_FAILED"
    attempts = read_attempts(a.note)
    assert attempts is not None, a.note
    assert [e.cause for e in attempts.entries] == ["lost", "lost"]
    assert "not submitted again: no attempt left (2 of 2)" in a.note
    assert (root / f"{a.label}.runs").read_text() == "run\nrun\n"
    # The failed task's directory stays for a person: attempt 1's log set aside, beside the last.
    assert sorted(p.name for p in (root / a.label).glob("job.log*")) == ["job.log", "job.log.1"]
