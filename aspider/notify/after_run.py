"""
The notifications of a run (`aspider run`) or of one sweep of the service: what it saw of each
project (XNAT, the cluster, the processor files, and the tasks as XNAT holds them now), told.

A project's facts come from how its sweep went (`ProjectFacts`): swept, left to another sweep
(its lease was held: nothing is said about XNAT or the cluster), or failed on XNAT or on the
cluster. The tasks are read again in the pass, under the lease, so they are the archive's state
after the run, whoever else swept since.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from aspider.notify.passes import Notifier, now
from aspider.notify.problems import (
    Cause,
    Component,
    Observation,
    TaskRules,
    component_problems,
    processor_problems,
    task_problems,
)
from aspider.processors import Processor
from aspider.run import RunResult
from aspider.settings import AspiderSettings
from pbs import PbsError
from xnat_client import XnatClient, XnatError

log = logging.getLogger("aspider.notify")

How = Literal["swept", "held", "xnat", "cluster"]


@dataclass(frozen=True)
class ProjectFacts:
    """How one project's sweep went: `how`, and the error when it failed."""

    how: How
    error: str = ""


@dataclass(frozen=True)
class RunFacts:
    """What a run knows for its notifications besides the tasks."""

    projects: Mapping[str, ProjectFacts]
    processor_issues: Sequence[tuple[str, str]] = ()  # (file, what is wrong) of files left out
    patience: timedelta = timedelta(0)  # before XNAT or the cluster failing is told
    host: str = field(default_factory=socket.gethostname)


def facts_of_result(result: RunResult, projects: Sequence[str]) -> dict[str, ProjectFacts]:
    """Each project's facts from a run's result (`RunResult.failed` says XNAT or cluster)."""
    found: dict[str, ProjectFacts] = {}
    for project in projects:
        failed = result.failed.get(project)
        if project in result.refused:
            found[project] = ProjectFacts("held")
        elif failed is not None and failed.startswith("cluster: "):
            found[project] = ProjectFacts("cluster", failed.removeprefix("cluster: "))
        elif failed is not None:
            found[project] = ProjectFacts("xnat", failed.removeprefix("XNAT: "))
        else:
            found[project] = ProjectFacts("swept")
    return found


def facts_of_error(error: XnatError | PbsError, projects: Sequence[str]) -> dict[str, ProjectFacts]:
    """A run that stopped before any sweep: XNAT or the cluster failed for every project."""
    how: How = "xnat" if isinstance(error, XnatError) else "cluster"
    return {project: ProjectFacts(how, str(error)) for project in projects}


def cluster_name(settings: AspiderSettings, host: str) -> str:
    """The cluster as one engine reaches it: executor, and user@host (or this host)."""
    c = settings.cluster
    if not c.over_ssh:
        return f"{c.executor} on {host}"
    user = f"{c.user}@" if c.user else ""
    return f"{c.executor} at {user}{c.host}" + (f":{c.port}" if c.port else "")


async def notify_projects(
    notifier: Notifier,
    xnat: XnatClient,
    facts: RunFacts,
    processors: Mapping[str, Sequence[Processor]],
) -> None:
    """A pass over each project of the run; the held-back notes at the end."""
    for project, how in facts.projects.items():
        if notifier.routes.muted(project):
            continue
        try:
            await _one_project(notifier, xnat, project, how, facts, processors[project])
        except XnatError as exc:  # the run's own errors were said; this one is ours
            log.warning("notifications of %s: XNAT: %s", project, exc)
    await notifier.flush()


async def _one_project(
    notifier: Notifier,
    xnat: XnatClient,
    project: str,
    how: ProjectFacts,
    facts: RunFacts,
    processors: Sequence[Processor],
) -> None:
    settings = notifier.settings
    xnat_part = Component(f"xnat:{settings.xnat.url}", project, None, facts.patience)
    if how.how == "xnat":
        failed = Component(xnat_part.domain, project, how.error, facts.patience)
        await notifier.local_pass(component_problems(project, Cause.XNAT, failed))
        return
    await notifier.local_pass(component_problems(project, Cause.XNAT, xnat_part))

    async def observe() -> Observation:
        seen = await read_tasks(notifier, xnat, project, processors)
        seen += processor_problems(project, facts.host, facts.processor_issues)
        if how.how != "held":  # a held lease says nothing about the cluster
            name = cluster_name(settings, facts.host)
            error = how.error if how.how == "cluster" else None
            cluster = Component(f"cluster:{name}", name, error, facts.patience)
            seen += component_problems(project, Cause.CLUSTER, cluster)
        return seen

    await notifier.project_pass(xnat, project, observe)


async def read_tasks(
    notifier: Notifier, xnat: XnatClient, project: str, processors: Sequence[Processor]
) -> Observation:
    """The project's failed and long-blocked tasks, as XNAT holds them now."""
    settings = notifier.settings
    needs_subjects = any(p.level == "subject" for p in processors)
    snapshot = await xnat.project_snapshot(project, subject_assessors=needs_subjects)
    rules = TaskRules(
        now=now(),
        blocked_after=timedelta(days=settings.notify.blocked_after_days),
        link_base=settings.serve.xnat_link or settings.xnat.url,
    )
    return task_problems(snapshot, [p.proctype for p in processors], rules)
