"""
The plan a sweep would make, made without changing anything: the one planning path that
`run --dry-run` prints and `explain` filters to one session.

It takes what a run takes: each project's own processors with its overrides (`for_project`),
the limits, and one queue budget for all the projects (as `run` spends one across them). The
jobs a sweep would follow are observed first, read-only (the scheduler's queue and the job
directories' status files), so that the plan is the one a sweep would make: without them every
running job would look lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aspider._exceptions import ConfigError
from aspider.plan import JobObservation, Plan, ScopeMatch, Staleness, match_snapshots, plan
from aspider.processors import Processor
from aspider.run.commands.runner import for_project, plan_limits
from aspider.run.records.run_queue import RunQueue
from aspider.run.sweep import jobs_to_observe, restrict, snapshot_needs, unknown_sessions
from aspider.run.wiring import NETWORK, Wiring, open_backend, read_snapshots
from aspider.settings import AspiderSettings
from xnat_client import ProjectSnapshot


@dataclass(frozen=True)
class SweepPreview:
    """What a sweep of these projects would see and do."""

    snapshots: list[ProjectSnapshot]
    matches: list[ScopeMatch]
    plan: Plan


async def preview(
    settings: AspiderSettings,
    projects: Sequence[str],
    procs: Sequence[Processor],
    *,
    sessions: Sequence[str] = (),
    wiring: Wiring = NETWORK,
    every_match: bool = False,
    as_given: bool = False,
) -> SweepPreview:
    """
    Read the projects and plan them as a run would: one after another, under one queue budget.

    `every_match` keeps the (processor, scope) pairs a sweep skips as settled (they plan to
    nothing, provably), so that `explain` can say why each processor is where it is.
    `as_given` plans `procs` as they are, not narrowed to each project's list nor overridden
    (a processor object a caller built to try).
    """
    async with wiring.open_xnat(settings, projects) as xnat:
        found = await read_snapshots(xnat, projects, **snapshot_needs(procs))
        snapshots = [restrict(s, sessions) for s in found]
    missing = unknown_sessions(found, sessions)
    if missing:
        raise ConfigError(missing)
    chosen = {
        snap.project: list(procs) if as_given else for_project(settings, snap.project, procs)
        for snap in snapshots
    }
    observations = await observe_followed_jobs(settings, snapshots, chosen)
    matches: list[ScopeMatch] = []
    plans: list[Plan] = []
    queue = RunQueue()  # as `run` spends it: project after project, one budget
    for snap in snapshots:
        scoped = await match_snapshots([snap], chosen[snap.project], skip_settled=not every_match)
        limits = queue.limits_for(snap.project, plan_limits(settings))
        container_dir = settings.cluster.container_dir
        procs_here = chosen[snap.project]
        plans.append(plan([snap], scoped, observations, limits, container_dir, procs_here))
        queue.record(snap.project, plans[-1])
        matches += scoped
    return SweepPreview(snapshots, matches, _together(plans))


def _together(plans: Sequence[Plan]) -> Plan:
    """The plans of a run's projects as one."""
    per: dict[str, int] = {}
    for p in plans:
        for proctype, n in p.in_queue_per_processor:
            per[proctype] = per.get(proctype, 0) + n
    return Plan(
        tuple(s for p in plans for s in p.sessions),
        tuple(label for p in plans for label in p.deferred),
        sum(p.in_queue for p in plans),
        tuple(sorted(per.items())),
        staleness=Staleness.joined(p.staleness for p in plans),
    )


async def preview_sweep(
    settings: AspiderSettings,
    projects: Sequence[str],
    procs: Sequence[Processor],
    *,
    sessions: Sequence[str] = (),
    wiring: Wiring = NETWORK,
) -> Plan:
    """The plan of `preview` (what `run --dry-run` prints)."""
    return (await preview(settings, projects, procs, sessions=sessions, wiring=wiring)).plan


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
