"""A task's history in XNAT when its job runs on the real loopback cluster (Slurm, over SSH)."""

from __future__ import annotations

import anyio
import pytest

from aspider.processors import Processor
from aspider.run.backends import SchedulerBackend
from aspider.run.sweep import SweepOptions, sweep_until_done
from xnat_client import XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


async def test_a_cluster_job_s_transitions_are_listed_in_order_with_its_id_and_node(
    server: XnatServer,
    xnat: XnatClient,
    demo_processors: list[Processor],
    pbs_backend: SchedulerBackend,
) -> None:
    """submitted as job N, then complete saying where and when it ran: one entry each."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=11)
    with anyio.fail_after(240):
        await sweep_until_done(
            xnat, pbs_backend, "P1", demo_processors, SweepOptions(), interval=1, max_sweeps=120
        )
    snap = await xnat.project_snapshot("P1")
    (stats,) = [a for s in snap.sessions for a in s.assessors if a.proctype == "imgstats_v1"]
    assert stats.procstatus == "COMPLETE", stats.note
    entries = await xnat.list_workflows("imgstats_v1", stats.id)
    assert [(w.status, w.step_id) for w in entries] == [
        ("Queued", "JOB_RUNNING"),
        ("Complete", "COMPLETE"),
    ]
    submitted, complete = entries
    assert submitted.step_description == f"submitted as job {stats.jobid}"
    assert complete.details.startswith(f"ran on {stats.jobnode} from ")
    assert submitted.launch_time <= complete.launch_time
    assert {w.job_id for w in entries} == {stats.jobid}
