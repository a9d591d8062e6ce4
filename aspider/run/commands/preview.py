"""
The plan a sweep would make, made without changing anything (`run --dry-run`, `explain`).

The jobs a sweep would follow are observed first, read-only (the scheduler's queue and the
job directories' status files), so that the plan is the one a sweep would make: without them
every running job would look lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from aspider.plan import JobObservation, Plan, ScopeMatch, match_snapshots, plan
from aspider.processors import Processor
from aspider.run.commands.runner import for_project, plan_limits
from aspider.run.sweep import jobs_to_observe, restrict, snapshot_needs
from aspider.run.wiring import NETWORK, Wiring, open_backend, read_snapshots
from aspider.settings import AspiderSettings
from xnat_client import ProjectSnapshot


async def preview_sweep(
    settings: AspiderSettings,
    projects: Sequence[str],
    procs: Sequence[Processor],
    *,
    sessions: Sequence[str] = (),
    wiring: Wiring = NETWORK,
) -> Plan:
    """Read the projects and plan them together (one queue budget across projects)."""
    async with wiring.open_xnat(settings) as xnat:
        found = await read_snapshots(xnat, projects, **snapshot_needs(procs))
        snapshots = [restrict(s, sessions) for s in found]
    chosen = {snap.project: for_project(settings, snap.project, procs) for snap in snapshots}
    observations = await observe_followed_jobs(settings, snapshots, chosen)
    matches: list[ScopeMatch] = []
    for snap in snapshots:
        matches += await match_snapshots([snap], chosen[snap.project], skip_settled=True)
    limits = plan_limits(settings)
    return plan(snapshots, matches, observations, limits, settings.cluster.container_dir)


async def observe_followed_jobs(
    settings: AspiderSettings,
    snapshots: Sequence[ProjectSnapshot],
    chosen: dict[str, list[Processor]],
) -> list[JobObservation]:
    """
    The jobs the sweep would follow, observed read-only.

    The cluster is reached even when no job is followed: a dry run is how a person checks the
    settings, and a sweep could not run where the cluster cannot be reached.

    Raises:
        PbsError: the cluster cannot be reached (host, key, known_hosts), or refused a read.
    """
    jobs: dict[str, str] = {}
    for snap in snapshots:
        jobs.update(jobs_to_observe(snap, chosen[snap.project]))
    async with open_backend(settings) as backend:
        return list((await backend.observe(jobs)).values()) if jobs else []
