"""
`aspider run` (the real sweep), `aspider status` and `aspider rerun`.

Exit codes: 0 when every action succeeded, 1 when something failed (a task, a session, XNAT or
the cluster), 2 for usage or configuration errors. A project whose lease another sweep holds is
reported and skipped (exit 1), never swept twice.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aspider.cli_common import (
    EXIT_FAILED,
    EXIT_OK,
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
from aspider.engine import open_backend, xnat_client
from aspider.execute import JobOptions
from aspider.lease import LeaseHeld
from aspider.logs import LogFormat, setup_logging
from aspider.planner import Plan, PlanLimits, SessionPlan
from aspider.processors import Processor
from aspider.report import print_status, print_summary, status_json, summary_json
from aspider.settings import AspiderSettings
from aspider.states import ProcStatus, normalise_procstatus
from aspider.sweep import SweepOptions, SweepReport, sweep_until_done
from pbs import PbsError
from xnat_client import AssessorFields, ProjectSnapshot


def plan_limits(settings: AspiderSettings) -> PlanLimits:
    """
    The queue limits as set, except that the local executor is never unlimited.

    Local jobs start the moment they are submitted, on the engine's own machine: with no limit,
    a thousand new sessions would be a thousand jobs at once. Unset, it is the number of cores.
    """
    limits = settings.limits
    queued = limits.max_queued
    if queued is None and settings.cluster.executor == "local":
        queued = os.cpu_count() or 1
    return PlanLimits(queued, limits.max_queued_per_processor)


def sweep_options(settings: AspiderSettings, sessions: Sequence[str] = ()) -> SweepOptions:
    limits = settings.limits
    return SweepOptions(
        limits=plan_limits(settings),
        job_options=JobOptions(settings.cluster.queue, settings.cluster.account),
        container_dir=settings.cluster.container_dir,
        sessions=tuple(sessions),
        transfers=limits.transfers,
        sessions_at_once=limits.sessions_at_once,
        keep_failed_days=settings.cluster.keep_failed_days,
    )


def for_project(settings: AspiderSettings, project: str, procs: list[Processor]) -> list[Processor]:
    wanted = settings.processors_for(project)
    return [p for p in procs if not wanted or p.proctype in wanted]


class _Progress:
    """A rich progress bar per sweep: sessions done out of sessions with work."""

    def __init__(self, progress: Progress | None, project: str) -> None:
        self.progress = progress
        self.project = project
        self.task: object = None

    def on_plan(self, plan: Plan) -> None:
        if self.progress is None:
            return
        busy = sum(1 for s in plan.sessions if s.actions)
        self.task = self.progress.add_task(f"{self.project}", total=busy)

    def on_session(self, _: SessionPlan) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task)  # type: ignore[arg-type]


async def execute_run(
    settings: AspiderSettings,
    projects: Sequence[str],
    procs: list[Processor],
    *,
    sessions: Sequence[str] = (),
    wait: bool = False,
    interval: float = 60.0,
    show_progress: bool = True,
) -> tuple[list[SweepReport], list[str]]:
    """Sweep each project (until idle with `wait`); returns the reports and refused projects."""
    reports: list[SweepReport] = []
    refused: list[str] = []
    options = sweep_options(settings, sessions)
    progress = (
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=errors,
            transient=True,
        )
        if show_progress
        else None
    )
    async with xnat_client(settings) as xnat, open_backend(settings) as backend:
        if progress is not None:
            progress.start()
        try:
            for project in projects:
                bar = _Progress(progress, project)
                try:
                    reports += await sweep_until_done(
                        xnat,
                        backend,
                        project,
                        for_project(settings, project, procs),
                        options,
                        interval=interval,
                        max_sweeps=None if wait else 1,
                        on_plan=bar.on_plan,
                        on_session=bar.on_session,
                    )
                except LeaseHeld as exc:
                    errors.print(f"[yellow]skipped[/yellow] {exc}", highlight=False)
                    refused.append(project)
        finally:
            if progress is not None:
                progress.stop()
    return reports, refused


def run_command(
    projects: list[str],
    processor: list[str],
    sessions: list[str],
    *,
    run_all: bool,
    wait: bool,
    interval: float,
    log_format: LogFormat,
    as_json: bool,
    settings: AspiderSettings,
) -> int:
    """The non-dry-run `aspider run`; returns the exit code."""
    setup_logging(log_format)
    names = sorted(settings.projects) if run_all or not projects else projects
    if not names:
        raise fail("no projects given and none configured (settings: projects)", EXIT_USAGE)
    procs = processors_from(settings, only=processor)
    try:
        reports, refused = anyio.run(
            lambda: execute_run(
                settings,
                names,
                procs,
                sessions=sessions,
                wait=wait,
                interval=interval,
                show_progress=not as_json and log_format == "text",
            )
        )
    except PbsError as exc:
        raise fail(f"cluster: {exc}", EXIT_FAILED) from exc
    if as_json:
        print_json({**summary_json(reports), "refused_projects": refused})
    else:
        print_summary(console, reports)
    failed = any(r.failed for r in reports) or bool(refused)
    return EXIT_FAILED if failed else EXIT_OK


def status(
    project: Annotated[str, typer.Argument(help="Project ID.")],
    processor: Annotated[
        list[str] | None, typer.Option("--processor", "-p", help="Only this processor.")
    ] = None,
    as_json: bool = JSON_OPTION,
    settings_file: Path | None = SETTINGS_OPTION,
) -> None:
    """Counts by processor and status, and the failing or blocked tasks with their reasons."""
    with user_errors():
        settings = settings_from(settings_file)
        snapshot = anyio.run(_snapshot, settings, project)
    proctypes = _proctypes(processor or [])
    if as_json:
        print_json(status_json(snapshot, proctypes))
    else:
        print_status(console, snapshot, proctypes)


async def _snapshot(settings: AspiderSettings, project: str) -> ProjectSnapshot:
    async with xnat_client(settings) as xnat:
        return await xnat.project_snapshot(project)


def _proctypes(names: Sequence[str]) -> list[str]:
    """`fs7` or `fs7_v1` both name the proctype `fs7_v1`; keep both spellings to match."""
    return [n for name in names for n in (name, f"{name}_v1")] if names else []


def rerun(
    project: Annotated[str, typer.Argument(help="Project ID.")],
    processor: Annotated[
        list[str] | None, typer.Option("--processor", "-p", help="Only this processor.")
    ] = None,
    status_filter: Annotated[
        list[str] | None, typer.Option("--status", help="Only tasks in this procstatus.")
    ] = None,
    session: Annotated[
        list[str] | None, typer.Option("--session", "-s", help="Only this session label.")
    ] = None,
    as_json: bool = JSON_OPTION,
    settings_file: Path | None = SETTINGS_OPTION,
) -> None:
    """Send tasks back to NEED_TO_RUN; the next `aspider run` removes outputs and resubmits."""
    statuses = [s.upper() for s in status_filter or []]
    for s in statuses:
        if normalise_procstatus(s) is None:
            raise fail(f"unknown status {s!r}; one of {', '.join(p.value for p in ProcStatus)}")
    with user_errors():
        settings = settings_from(settings_file)
        sent = anyio.run(_rerun, settings, project, processor or [], statuses, session or [])
    if as_json:
        print_json({"project": project, "sent_back": sent})
    else:
        for label in sent:
            console.print(f"sent back: {label}", highlight=False)
        console.print(f"{len(sent)} task(s) will run again at the next sweep", highlight=False)


async def _rerun(
    settings: AspiderSettings,
    project: str,
    processors: Sequence[str],
    statuses: Sequence[str],
    sessions: Sequence[str],
) -> list[str]:
    wanted = set(_proctypes(processors))
    sent: list[str] = []
    async with xnat_client(settings) as xnat:
        snapshot = await xnat.project_snapshot(project)
        for s in snapshot.sessions:
            if sessions and s.label not in sessions:
                continue
            for a in s.assessors:
                if wanted and a.proctype not in wanted:
                    continue
                if statuses and a.procstatus.upper() not in statuses:
                    continue
                fields = AssessorFields(
                    procstatus=ProcStatus.NEED_TO_RUN.value, note="sent back by aspider rerun"
                )
                await xnat.update_assessor(s.id, a.id, fields)
                sent.append(a.label)
    return sent
