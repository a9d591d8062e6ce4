"""
`aspider run`: sweep projects (create, stage, submit, follow, upload); with `--dry-run`, print the
plan of a sweep and change nothing.

Exit codes: 0 when every action succeeded, 1 when something failed (a task, a session, XNAT or
the cluster), 2 for usage or configuration errors. A project whose lease another sweep holds is
reported and skipped (exit 1), never swept twice.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.table import Table

from aspider.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    JSON_OPTION,
    SETTINGS_OPTION,
    console,
    fail,
    print_json,
    processors_from,
    settings_from,
    user_errors,
    wiring_of,
)
from aspider.cli.logs import LogFormat, setup_logging
from aspider.cli.progress import SweepBars
from aspider.cli.report import print_summary, summary_json
from aspider.plan import Action, Plan, plan_to_dict
from aspider.run.engine import Wiring
from aspider.run.preview import preview_sweep
from aspider.run.runner import execute_run
from aspider.settings import AspiderSettings
from pbs import PbsError


def run(
    ctx: typer.Context,
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
    wiring = wiring_of(ctx)
    setup_logging(log_format)
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
                wait=wait,
                interval=interval,
                log_format=log_format,
                as_json=as_json,
                settings=settings,
                wiring=wiring,
            )
            raise typer.Exit(code)
        procs = processors_from(settings, only=processor or [])
        the_plan = anyio.run(
            lambda: preview_sweep(settings, names, procs, sessions=session or [], wiring=wiring)
        )
    if as_json:
        print_json(plan_to_dict(the_plan))
    else:
        _print(the_plan)


def run_command(
    projects: list[str],
    processor: list[str],
    sessions: list[str],
    *,
    wait: bool,
    interval: float,
    log_format: LogFormat,
    as_json: bool,
    settings: AspiderSettings,
    wiring: Wiring,
) -> int:
    """The non-dry-run `aspider run`; returns the exit code."""
    procs = processors_from(settings, only=processor)
    show = not as_json and log_format == "text"
    try:
        with SweepBars(show, log_format) as bars:
            result = anyio.run(
                lambda: execute_run(
                    settings,
                    projects,
                    procs,
                    wiring=wiring,
                    sessions=sessions,
                    wait=wait,
                    interval=interval,
                    progress=bars,
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
