"""
`aspider run`: sweep projects (create, stage, submit, follow, upload); with `--dry-run`, print the
plan of a sweep and change nothing.

Exit status says how the run ended: 0 when nothing stands failed (every task done, or waiting
on its job), 1 when a task is still failed at the end, or a project could not be swept (XNAT
would not serve it, the cluster could not be reached, another sweep holds its lease), 2 for
usage and configuration errors, including a processor file that does not load: it is named
(file:line) and left out, and the other processors still run. A failure a later sweep of the
same run put right is listed in the summary as transient and does not change the exit status.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from aspider._exceptions import Issue, only_failure
from aspider.cli import words
from aspider.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    JSON_OPTION,
    SETTINGS_OPTION,
    WIDE_OPTION,
    console,
    errors,
    fail,
    print_json,
    processors_leniently,
    report_skipped,
    settings_from,
    user_errors,
    wide_console,
    wiring_of,
)
from aspider.cli.logs import LogFormat, setup_logging
from aspider.cli.notify import after_run, notifier_for_run
from aspider.cli.progress import RunDisplay
from aspider.cli.report import print_summary, run_summary
from aspider.notify import Notifier, facts_of_error, facts_of_result
from aspider.plan import Plan, plan_to_dict
from aspider.processors import Processor
from aspider.run import Wiring, execute_run, preview_sweep, run_notices
from aspider.settings import AspiderSettings
from pbs import PbsError
from xnat_client import XnatError


def run(
    ctx: typer.Context,
    projects: Annotated[
        list[str] | None,
        typer.Argument(help="XNAT project IDs (default: the projects in the settings)."),
    ] = None,
    processor: Annotated[
        list[str] | None,
        typer.Option("--processor", "-p", help="Only this processor (name, or name_vN)."),
    ] = None,
    session: Annotated[
        list[str] | None,
        typer.Option("--session", "-s", help="Only this session (label); repeatable."),
    ] = None,
    run_all: bool = typer.Option(False, "--all", help="Every project in the settings."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what a sweep would do; change nothing."
    ),
    wait: bool = typer.Option(
        False, "--wait", help="Keep sweeping until every job has ended and nothing is left to do."
    ),
    interval: float = typer.Option(60.0, help="Seconds between sweeps with --wait."),
    max_queued: int | None = typer.Option(
        None, help="At most this many jobs queued or running (overrides limits.max_queued)."
    ),
    log_format: Annotated[
        LogFormat,
        typer.Option("--log-format", help="text for people; json for log collectors."),
    ] = "text",
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every action as it happens."),
    no_notify: bool = typer.Option(
        False, "--no-notify", help="Send no alert after this run (as notify.enabled: false)."
    ),
    wide: bool = WIDE_OPTION,
    as_json: bool = JSON_OPTION,
    settings_file: Path | None = SETTINGS_OPTION,
) -> None:
    """
    Sweep projects: create what sessions need, submit jobs, upload results.

    A sweep creates the processing records (assessors) each session still needs in XNAT,
    stages their inputs, submits the jobs, and uploads the results of the jobs that ended.
    One sweep, unless --wait. Run it from cron, or with --wait by hand: every sweep picks up
    where the last left off. --dry-run shows what a sweep would do and changes nothing.
    """
    overrides = {} if max_queued is None else {"limits": {"max_queued": max_queued}}
    wiring = wiring_of(ctx)
    setup_logging(log_format, verbose)
    with user_errors(as_json):
        settings = settings_from(settings_file, overrides)
        names = sorted(settings.projects) if run_all else list(projects or [])
        if not names and settings.projects and not run_all:
            raise fail(
                "no project given: name the ones to sweep (`aspider run PROJ`), or --all for "
                f"every configured one ({', '.join(sorted(settings.projects))})",
                EXIT_USAGE,
            )
        if not names:
            raise fail(
                "no project given: name one (`aspider run PROJ`), or list them under "
                "`projects:` in the settings and use --all",
                EXIT_USAGE,
            )
        procs, skipped = processors_leniently(settings, only=processor or [])
        report_skipped(skipped)
        cluster = settings.cluster
        for notice in run_notices(procs, cluster.executor, cluster.container_dir):
            _warn(notice, log_format)
        if dry_run:
            the_plan = anyio.run(
                lambda: preview_sweep(settings, names, procs, sessions=session or [], wiring=wiring)
            )
        else:
            wait = wait or _local_jobs_die_with_us(settings, log_format)
            options = RunChoices(session or [], wait, interval, log_format, as_json, wide)
            notifier = notifier_for_run(settings, no_notify)
            told = Telling(notifier, skipped) if notifier is not None else None
            code = run_command(names, procs, options, settings, wiring, told)
            raise typer.Exit(code if code != EXIT_OK or not skipped else EXIT_USAGE)
    if as_json:
        print_json(plan_to_dict(the_plan))
    else:
        print_plan(the_plan, wide)
    if skipped:
        raise typer.Exit(EXIT_USAGE)


IMAGE_VARIABLE = "ASPIDER_IMAGE"  # set by the project's Dockerfile


def _warn(notice: str, log_format: LogFormat) -> None:
    """One warning line on stderr (a log record with --log-format json)."""
    if log_format == "json":
        logging.getLogger("aspider.run").warning("%s", notice)
    else:
        errors.print(f"[yellow]warning:[/yellow] {escape(notice)}", highlight=False)


def _local_jobs_die_with_us(settings: AspiderSettings, log_format: LogFormat) -> bool:
    """
    In aspider's container image the local executor waits for its jobs (as with --wait).

    Elsewhere a local job outlives the run that started it (a new session; the next run
    collects it), but a container stops when its main process exits, and its jobs with it.
    """
    if settings.cluster.executor != "local" or not os.environ.get(IMAGE_VARIABLE):
        return False
    _warn("local executor in a container: waiting for the jobs, which stop with it", log_format)
    return True


@dataclass(frozen=True)
class Telling:
    """Who tells what the run found (notifications), and the processor files left out."""

    notifier: Notifier
    skipped: list[Issue]


@dataclass(frozen=True)
class RunChoices:
    """What the command line chose for a real run."""

    sessions: list[str]
    wait: bool
    interval: float
    log_format: LogFormat
    as_json: bool
    wide: bool


def run_command(
    projects: list[str],
    procs: list[Processor],
    choices: RunChoices,
    settings: AspiderSettings,
    wiring: Wiring,
    told: Telling | None = None,
) -> int:
    """The non-dry-run `aspider run`; returns the exit status."""
    live = not choices.as_json and choices.log_format == "text" and errors.is_terminal
    display = RunDisplay(
        live=live, log_format=choices.log_format, wait=choices.wait, interval=choices.interval
    )
    try:
        with display as bars:
            result = anyio.run(
                lambda: execute_run(
                    settings,
                    projects,
                    procs,
                    wiring=wiring,
                    sessions=choices.sessions,
                    wait=choices.wait,
                    interval=choices.interval,
                    progress=bars,
                )
            )
    except KeyboardInterrupt:
        display.on_notice(logging.WARNING, display.interrupted())
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:  # XNAT or the cluster stopped it before any sweep: said, raised
        cause = only_failure(exc, (XnatError, PbsError))
        if told is not None and isinstance(cause, XnatError | PbsError):
            facts = facts_of_error(cause, projects)
            after_run(told.notifier, settings, wiring, facts, procs, told.skipped)
        raise
    if choices.sessions and result.sessions_missing:
        raise fail(result.sessions_missing, EXIT_USAGE)
    summary = run_summary(result)
    if choices.as_json:
        print_json(summary)
    elif choices.log_format == "json":  # one line a log collector parses like the records
        sys.stdout.write(json.dumps({"summary": summary}, ensure_ascii=False, default=str) + "\n")
    else:
        print_summary(wide_console if choices.wide else console, result.reports, choices.wide)
    if told is not None:
        facts = facts_of_result(result, projects)
        after_run(told.notifier, settings, wiring, facts, procs, told.skipped)
    return EXIT_OK if result.ok else EXIT_FAILED


def print_plan(the_plan: Plan, wide: bool = False) -> None:
    """
    The plan as a person reads it: processor, session, action and reason fit 80 columns; the
    task's full label (long: project, subject, session, processor and a hash) with --wide.
    """
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    columns = ["processor", "session", "action", "status / reason"]
    if wide:
        columns.insert(3, "task")
    for column in columns:
        table.add_column(column, overflow="fold")
    for session in the_plan.sessions:
        for action in session.actions:
            task = action.task
            cells = [task.proctype, session.session_label, words.short(action.kind)]
            cells += [task.label] if wide else []
            table.add_row(*(escape(c) for c in [*cells, words.detail(action)]))
        for finding in session.findings:
            cells = [finding.proctype, session.session_label, "report"]
            cells += [finding.label] if wide else []
            table.add_row(*(escape(c) for c in [*cells, finding.message]))
    if not the_plan.sessions or not table.row_count:
        console.print(
            "Nothing to do: every task is done, running, waiting for its inputs, or failed "
            "(`aspider status` lists the failed; `aspider rerun` sends them back)."
        )
    else:
        (wide_console if wide else console).print(table)
    console.print(
        f"{len(the_plan.actions())} action(s); {the_plan.in_queue} job(s) in the queue; "
        f"{len(the_plan.deferred)} submission(s) deferred by queue limits",
        highlight=False,
    )
