"""
`aspider run` (the real sweep), `aspider status` and `aspider rerun`.

Exit codes: 0 when every action succeeded, 1 when something failed (a task, a session, XNAT or
the cluster), 2 for usage or configuration errors. A project whose lease another sweep holds is
reported and skipped (exit 1), never swept twice.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.markup import escape
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
    only_failure,
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
from xnat_client import AssessorFields, ProjectSnapshot, XnatError

log = logging.getLogger("aspider.run")


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


@dataclass
class RunResult:
    reports: list[SweepReport]
    refused: list[str]  # projects another sweep held (the lease)
    failed: dict[str, str]  # projects XNAT would not serve -> why

    @property
    def ok(self) -> bool:
        return not (any(r.failed for r in self.reports) or self.refused or self.failed)


async def execute_run(
    settings: AspiderSettings,
    projects: Sequence[str],
    procs: list[Processor],
    *,
    sessions: Sequence[str] = (),
    wait: bool = False,
    interval: float = 60.0,
    show_progress: bool = True,
    log_format: LogFormat = "text",
) -> RunResult:
    """Sweep each project (until idle with `wait`); a project that fails does not stop the rest."""
    reports: list[SweepReport] = []
    refused: list[str] = []
    failed: dict[str, str] = {}
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
                    _say(log_format, logging.WARNING, f"skipped {exc}", "yellow")
                    refused.append(project)
                except Exception as exc:  # one project XNAT will not serve must not stop the night
                    found = only_failure(exc, XnatError)
                    if found is None:
                        raise
                    _say(log_format, logging.ERROR, f"project {project}: XNAT: {found}", "red")
                    failed[project] = str(found)
        finally:
            if progress is not None:
                progress.stop()
    return RunResult(reports, refused, failed)


def _say(log_format: LogFormat, level: int, message: str, colour: str) -> None:
    """A line for a person (rich, stderr) or a record for a log collector (--log-format json)."""
    if log_format == "json":
        log.log(level, "%s", message)
    else:
        errors.print(f"[{colour}]{escape(message)}[/{colour}]", highlight=False)


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
        result = anyio.run(
            lambda: execute_run(
                settings,
                names,
                procs,
                sessions=sessions,
                wait=wait,
                interval=interval,
                show_progress=not as_json and log_format == "text",
                log_format=log_format,
            )
        )
    except PbsError as exc:
        raise fail(f"cluster: {exc}", EXIT_FAILED) from exc
    summary = {
        **summary_json(result.reports),
        "refused_projects": result.refused,
        "failed_projects": result.failed,
    }
    if as_json:
        print_json(summary)
    elif log_format == "json":  # one line a log collector parses like the records before it
        sys.stdout.write(json.dumps({"summary": summary}, ensure_ascii=False, default=str) + "\n")
    else:
        print_summary(console, result.reports)
    return EXIT_OK if result.ok else EXIT_FAILED


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


_IN_FLIGHT = (ProcStatus.JOB_RUNNING, ProcStatus.READY_TO_UPLOAD, ProcStatus.UPLOADING)


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
        proctypes = {p.proctype for p in processors_from(settings, only=processor or [])}
        sent, kept = anyio.run(_rerun, settings, project, proctypes, statuses, session or [])
    if as_json:
        print_json({"project": project, "sent_back": sent, "left_running": kept})
    else:
        for label in sent:
            console.print(f"sent back: {label}", highlight=False, markup=False)
        for label in kept:
            console.print(
                f"left alone (its job may still run): {label}", highlight=False, markup=False
            )
        console.print(f"{len(sent)} task(s) will run again at the next sweep", highlight=False)


async def _rerun(
    settings: AspiderSettings,
    project: str,
    proctypes: set[str],
    statuses: Sequence[str],
    sessions: Sequence[str],
) -> tuple[list[str], list[str]]:
    """
    Send back the tasks of our processors that match; returns (sent back, left running).

    Only assessors of the loaded processors are touched: another pipeline's records are not
    ours to reset. A task whose job may still run (JOB_RUNNING, or its outputs on their way)
    is left alone: sent back, it would be submitted again beside the job still running, and
    the older job's outputs could then be taken for the new run's.
    """
    sent: list[str] = []
    kept: list[str] = []
    async with xnat_client(settings) as xnat:
        snapshot = await xnat.project_snapshot(project)
        for s in snapshot.sessions:
            if sessions and s.label not in sessions:
                continue
            for a in s.assessors:
                if a.proctype not in proctypes:
                    continue
                if statuses and a.procstatus.upper() not in statuses:
                    continue
                if normalise_procstatus(a.procstatus) in _IN_FLIGHT:
                    kept.append(a.label)
                    continue
                fields = AssessorFields(
                    procstatus=ProcStatus.NEED_TO_RUN.value, note="sent back by aspider rerun"
                )
                await xnat.update_assessor(s.id, a.id, fields)
                sent.append(a.label)
    return sent, kept
