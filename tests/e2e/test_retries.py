"""
Jobs the loopback Slurm really kills (its cgroup memory limit, its time limit), sent again by
the retry policy with more: COMPLETE with every attempt recorded, or JOB_FAILED with every
attempt's cause once none is left.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from aspider.plan import note_text, read_made_from
from aspider.plan.retry import Attempt, read_attempts
from aspider.processors import Processor, load_processors
from aspider.run.backends import SchedulerBackend
from aspider.run.sweep import sweep_until_done
from xnat_client import Assessor, ResourceRef, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

PROCESSOR = """\
retry: {retry}
level: session
requirements: {{walltime: '{walltime}', memory: {memory}, ppn: 1}}
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1w
        keep_multis: first
outputs:
  - stats: out.txt
command:
  type: shell
  script: |
{script}
"""
# 180 MB held at once: over a 128 MB request (the cgroup's OOM killer ends it), under 256 MB.
HOG_180MB = "python3 -c \"b = b'x' * (180 << 20)\""
# Sleeps past any walltime on its first run; done at once on the next (a mark in its job dir,
# which a retry keeps: it clears only status/, OUTPUTS/ and the log).
SLEEPS_ONCE = """\
if [ ! -e "$JOBDIR/slept" ]; then touch "$JOBDIR/slept"; sleep 600; fi
echo done > "$OUTDIR/out.txt"
"""


def processor(folder: Path, name: str, script: str, **fields: str) -> Processor:
    """A session-level shell processor with the given retry policy and request."""
    folder.mkdir(parents=True, exist_ok=True)
    body = "\n".join(f"    {line}" for line in script.strip().splitlines())
    values = {"retry": "{}", "walltime": "0-00:05", "memory": "128M", **fields}
    path = folder / f"{name}_v1.0.0.yaml"
    path.write_text(PROCESSOR.format(script=body, **values))
    (loaded,) = load_processors([path])
    return loaded


async def swept(
    server: XnatServer, xnat: XnatClient, backend: SchedulerBackend, proc: Processor, limit: float
) -> Assessor:
    """One session swept until nothing is queued or running; its one assessor."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=8)
    with anyio.fail_after(limit):
        await sweep_until_done(xnat, backend, "P1", [proc], interval=1, max_sweeps=int(limit))
    (a,) = [a for s in (await xnat.project_snapshot("P1")).sessions for a in s.assessors]
    return a


async def test_over_memory_job_is_resubmitted_with_twice_the_memory_and_completes(
    server: XnatServer, xnat: XnatClient, slurm_backend: SchedulerBackend, tmp_path: Path
) -> None:
    """OUT_OF_MEMORY at 128 MB: attempt 2 asks 256 MB and completes; both attempts recorded."""
    retry = "{attempts: 3, on: [memory], memory_factor: 2}"
    script = f'{HOG_180MB} && echo ok > "$OUTDIR/out.txt"'
    a = await swept(
        server, xnat, slurm_backend, processor(tmp_path, "hog", script, retry=retry), 180
    )
    assert a.procstatus == "COMPLETE", a.note
    attempts = read_attempts(a.note)
    assert attempts is not None, a.note
    first, second = attempts.entries
    assert first == Attempt(1, 128, 300, first.job_id, "memory", used=first.used)
    assert second == Attempt(2, 256, 300, a.jobid, "success", used=second.used)
    assert first.job_id != a.jobid
    assert a.note.startswith(  # the record alone: COMPLETE has no reason to give
        f"[attempt 1: 128 MB, 00:05:00, job {first.job_id}, memory, used "
    )
    assert note_text(a.note) == ""  # the attempt record and what it was made from, alone
    assert read_made_from(a.note) is not None
    # What each job used, as sacct accounted it (its memory sampled once a second, so a
    # peak shorter than that may be missed): within what it asked, on the one core it asked.
    assert second.used is not None
    assert second.used.memory_mb is not None
    assert second.used.memory_mb <= 256
    assert second.used.cpus == 1
    assert second.used.cpu_seconds is not None
    files = await xnat.list_files(ResourceRef.assessor_output(a.session_id, a.id, "STATS"))
    assert [f.name for f in files] == ["out.txt"]


async def test_over_memory_on_every_attempt_fails_with_each_cause(
    server: XnatServer, xnat: XnatClient, slurm_backend: SchedulerBackend, tmp_path: Path
) -> None:
    """Killed for memory at 128 MB and at 160 MB (max_memory): JOB_FAILED, both causes listed."""
    retry = "{attempts: 3, on: [memory], max_memory: 160M}"
    script = f'{HOG_180MB} && echo ok > "$OUTDIR/out.txt"'
    a = await swept(
        server, xnat, slurm_backend, processor(tmp_path, "hog", script, retry=retry), 180
    )
    assert a.procstatus == "JOB_FAILED"
    attempts = read_attempts(a.note)
    assert attempts is not None, a.note
    assert [(e.memory_mb, e.cause) for e in attempts.entries] == [(128, "memory"), (160, "memory")]
    assert "not submitted again: its memory request is at the maximum (160 MB)" in a.note
    assert a.resources == ("OUTLOG",)


async def test_over_time_job_is_resubmitted_with_more_walltime_and_completes(
    server: XnatServer, xnat: XnatClient, slurm_backend: SchedulerBackend, tmp_path: Path
) -> None:
    """TIMEOUT at its one-minute walltime: attempt 2 asks two minutes and completes."""
    retry = "{attempts: 2, on: [walltime], walltime_factor: 2}"
    proc = processor(tmp_path, "sleepy", SLEEPS_ONCE, retry=retry, walltime="0-00:01")
    a = await swept(server, xnat, slurm_backend, proc, 300)
    assert a.procstatus == "COMPLETE", a.note
    attempts = read_attempts(a.note)
    assert attempts is not None, a.note
    assert [(e.walltime_seconds, e.cause) for e in attempts.entries] == [
        (60, "walltime"),
        (120, "success"),
    ]
