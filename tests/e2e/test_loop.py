"""
The nightly loop against the real loopback cluster over verified SSH: through the PBS commands
and natively on Slurm (sbatch, squeue, sacct), straight to the login node and through the
bastion.
"""

from __future__ import annotations

import re

import anyio
import pytest

from aspider.processors import Processor
from aspider.run.backends import SchedulerBackend
from aspider.run.sweep import SweepOptions, sweep_until_done
from xnat_client import ResourceRef, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


async def test_from_nothing_to_all_complete_over_ssh(
    server: XnatServer,
    xnat: XnatClient,
    demo_processors: list[Processor],
    scheduler_backend: SchedulerBackend,
) -> None:
    """Every task is created, staged over SFTP, submitted, followed and uploaded: all COMPLETE."""
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=11)
    backend = scheduler_backend
    with anyio.fail_after(240):
        await sweep_until_done(
            xnat, backend, "P1", demo_processors, SweepOptions(), interval=1, max_sweeps=120
        )
    snap = await xnat.project_snapshot("P1")
    ours = [a for s in snap.sessions for a in s.assessors]
    assert sorted(a.proctype for a in ours) == ["imgstats_v1"] * 3 + ["sessreport_v1"] * 3
    assert {a.procstatus for a in ours} == {"COMPLETE"}, [a.note for a in ours]
    assert all(a.jobid.isdigit() for a in ours)
    # usage as the scheduler and the job directory report it: elapsed time (HH:MM:SS), node
    for a in ours:
        assert re.fullmatch(r"\d\d:\d\d:\d\d", a.walltimeused), a.walltimeused
        assert a.jobnode, a.label
    stats = next(a for a in ours if a.proctype == "imgstats_v1")
    files = await xnat.list_files(ResourceRef.assessor_output(stats.session_id, stats.id, "STATS"))
    assert [f.name for f in files] == ["stats.txt"]
    assert (files[0].size or 0) > 0
    # One observation of every job and an intent costs the same few commands whatever their
    # number: squeue and sacct by id and by name (or a qstat for ids and one for names), and
    # one read of the job directories.
    jobs = {a.label: a.jobid for a in ours} | {"P1-x-never-x-submitted": ""}
    before = backend.transport.round_trips
    seen = await backend.observe(jobs)
    assert backend.transport.round_trips - before <= 4
    assert {seen[a.label].job_id for a in ours} == {a.jobid for a in ours}
    assert seen["P1-x-never-x-submitted"].end_cause == "lost"
