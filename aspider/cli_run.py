"""
`aspider run`: sweep projects (create, stage, submit, follow, upload); with `--dry-run`, print the
plan of a sweep and change nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.table import Table

from aspider.actions import Action, JobObservation
from aspider.cli_common import (
    EXIT_USAGE,
    JSON_OPTION,
    SETTINGS_OPTION,
    console,
    errors,
    fail,
    print_json,
    processors_from,
    settings_from,
    user_errors,
)
from aspider.cli_sweep import plan_limits, run_command
from aspider.cli_xnat import read_snapshots
from aspider.engine import open_backend
from aspider.logs import LogFormat
from aspider.plan_json import plan_to_dict
from aspider.planner import Plan, ScopeMatch, match_snapshots, plan
from aspider.processors import Processor
from aspider.settings import AspiderSettings
from aspider.sweep import jobs_to_observe
from pbs import PbsError
from xnat_client import ProjectSnapshot


def run(
    projects: Annotated[
        list[str] | None, typer.Argument(help="Project IDs (default: every configured).")
    ] = None,
    processor: Annotated[
        list[str] | None, typer.Option("--processor", "-p", help="Only this processor.")
    ] = None,
    session: Annotated[
        list[str] | None, typer.Option("--session", "-s", help="Only this session label.")
    ] = None,
    run_all: bool = typer.Option(False, "--all", help="Every configured project."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; change nothing."),
    wait: bool = typer.Option(False, "--wait", help="Keep sweeping until no job is queued."),
    interval: float = typer.Option(60.0, help="Seconds between sweeps with --wait."),
    max_queued: int | None = typer.Option(None, help="Override limits.max_queued."),
    log_format: Annotated[
        LogFormat, typer.Option("--log-format", help="text, or json for containers.")
    ] = "text",
    as_json: bool = JSON_OPTION,
    settings_file: Path | None = SETTINGS_OPTION,
) -> None:
    """Sweep projects: loops A (--all), B (one project, --processor) and C (one project)."""
    overrides = {} if max_queued is None else {"limits": {"max_queued": max_queued}}
    with user_errors():
        settings = settings_from(settings_file, overrides)
        names = sorted(settings.projects) if run_all else (projects or sorted(settings.projects))
        if not names:
            raise fail("no projects given and none configured (settings: projects)", EXIT_USAGE)
        if not dry_run:
            code = run_command(
                names,
                processor or [],
                session or [],
                run_all=run_all,
                wait=wait,
                interval=interval,
                log_format=log_format,
                as_json=as_json,
                settings=settings,
            )
            raise typer.Exit(code)
        procs = processors_from(settings, only=processor or [])
        the_plan = anyio.run(plan_sweep, settings, names, procs)
    if as_json:
        print_json(plan_to_dict(the_plan))
    else:
        _print(the_plan)


async def plan_sweep(
    settings: AspiderSettings, projects: list[str], procs: list[Processor]
) -> Plan:
    """
    Read the projects and plan them together (one queue budget across projects).

    The jobs a sweep would follow are observed first, read-only (qstat and the job
    directories' status files), so that the plan is the one a sweep would make: without them
    every running job would look lost.
    """
    snapshots = await read_snapshots(settings, projects)
    chosen = {snap.project: _for_project(settings, snap, procs) for snap in snapshots}
    observations = await _observe_jobs(settings, snapshots, chosen)
    matches: list[ScopeMatch] = []
    for snap in snapshots:
        matches += await match_snapshots([snap], chosen[snap.project], skip_settled=True)
    limits = plan_limits(settings)
    return plan(snapshots, matches, observations, limits, settings.cluster.container_dir)


async def _observe_jobs(
    settings: AspiderSettings,
    snapshots: list[ProjectSnapshot],
    chosen: dict[str, list[Processor]],
) -> list[JobObservation]:
    jobs: dict[str, str] = {}
    for snap in snapshots:
        jobs.update(jobs_to_observe(snap, chosen[snap.project]))
    if not jobs:
        return []
    try:
        async with open_backend(settings) as backend:
            return list((await backend.observe(jobs)).values())
    except (PbsError, OSError) as exc:
        errors.print(
            f"[yellow]warning:[/] cannot observe the {len(jobs)} job(s) a sweep would follow "
            f"({exc}); the plan treats them as unknown",
            highlight=False,
        )
        return []


def _for_project(
    settings: AspiderSettings, snap: ProjectSnapshot, procs: list[Processor]
) -> list[Processor]:
    wanted = settings.processors_for(snap.project)
    return [p for p in procs if not wanted or p.proctype in wanted]


def _print(the_plan: Plan) -> None:
    table = Table("session", "action", "task", "detail")
    for session in the_plan.sessions:
        for action in session.actions:
            table.add_row(session.session_label, action.kind, action.task.label, _detail(action))
        for finding in session.findings:
            table.add_row(session.session_label, "report", finding.label, finding.message)
    console.print(table)
    console.print(
        f"{len(the_plan.actions())} action(s); {the_plan.in_queue} job(s) in the queue; "
        f"{len(the_plan.deferred)} submission(s) deferred by queue limits",
        highlight=False,
    )


def _detail(action: Action) -> str:
    status = getattr(action, "procstatus", None)
    reason = getattr(action, "reason", "")
    return " ".join(str(x) for x in (status, reason) if x)
