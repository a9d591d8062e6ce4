"""`aspider status` and `aspider rerun`: a project's tasks as XNAT holds them; sending some back."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from aspider.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    JSON_OPTION,
    SETTINGS_OPTION,
    WIDE_OPTION,
    console,
    fail,
    print_json,
    processors_from,
    settings_from,
    user_errors,
    wide_console,
    wiring_of,
)
from aspider.cli.history import show_history
from aspider.cli.report import (
    build_status,
    print_jobs,
    print_project_status,
    print_stale,
    stale_json,
    status_json,
)
from aspider.plan import JobObservation, ProcStatus, find_stale, normalise_procstatus
from aspider.processors import Processor
from aspider.run import (
    RerunResult,
    Wiring,
    for_project,
    observe_followed_jobs,
    read_rerun,
    send_back,
)
from aspider.settings import AspiderSettings
from xnat_client import ProjectSnapshot

PROCESSOR_OPTION = typer.Option(
    "--processor", "-p", help="Only this processor (name, or name_vN); repeat for more."
)


def status(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project ID in XNAT.")],
    processor: Annotated[list[str] | None, PROCESSOR_OPTION] = None,
    xnat_only: bool = typer.Option(
        False, "--xnat-only", help="Do not ask the cluster about the jobs."
    ),
    history: str | None = typer.Option(
        None,
        "--history",
        metavar="LABEL",
        help="One task's transitions instead (assessor label), from XNAT's history.",
    ),
    stale: bool = typer.Option(
        False,
        "--stale",
        help="Only the stale results: COMPLETE, but made from inputs, an upstream result or "
        "a processor that changed since; one line each, with the reason.",
    ),
    wide: bool = WIDE_OPTION,
    as_json: bool = JSON_OPTION,
    settings_file: Path | None = SETTINGS_OPTION,
) -> None:
    """
    How a project's tasks stand, and why the stuck ones are stuck.

    Counts by processor and status, every failed or blocked task with its reason, and the
    jobs aspider follows as the cluster sees them (queued, running, ended). Every processor
    found in XNAT is shown; one not configured for the project is marked (*), as `report`
    and the service's page mark it. With --history LABEL: that task's transitions
    (submitted, running, failed and why, ...), one request.
    """
    with user_errors(as_json):
        settings = settings_from(settings_file)
    if history is not None:
        shown = wide_console if wide else console
        show_history(shown, settings, wiring_of(ctx), project, history, processor or [], as_json)
        return
    with user_errors(as_json):
        procs = _configured_processors(settings)
        ours = for_project(settings, project, procs) if procs else None
        snapshot = anyio.run(_snapshot, settings, project, wiring_of(ctx))
    proctypes = chosen_proctypes(processor or [], procs, snapshot)
    if stale and not ours:
        raise fail("--stale compares results with their processors: none is configured")
    staleness = find_stale([snapshot], ours) if ours else None
    asked_jobs = not (stale or xnat_only or not ours)  # --stale asks XNAT only
    observed, problem = _jobs(settings, snapshot, ours or []) if asked_jobs else (None, None)
    model = build_status(
        snapshot,
        None if ours is None else [p.proctype for p in ours],
        only=proctypes,
        observations=observed,
        link_base=settings.serve.xnat_link or settings.xnat.url,
        staleness=staleness,
    )
    if stale:
        if as_json:
            print_json(stale_json(model))
        else:
            print_stale(wide_console if wide else console, model)
        return
    if as_json:
        print_json(status_json(model))
    else:
        print_project_status(wide_console if wide else console, model, wide=wide)
        if model.job_counts is not None:
            print_jobs(console, model.job_counts)
    if problem is not None:
        raise problem


def _configured_processors(settings: AspiderSettings) -> list[Processor]:
    """Our processors, or none if none are configured: status reads XNAT without them."""
    if not settings.processor_paths and not settings.processor_classes:
        return []
    return processors_from(settings)


def chosen_proctypes(
    names: Sequence[str], procs: Sequence[Processor], snapshot: ProjectSnapshot
) -> list[str]:
    """
    The proctypes `--processor` names: `fs7` or `fs7_v1`, among our processors or the project's
    assessors. A name that matches nothing is a mistake (exit 2), not an empty table.
    """
    known = {p.proctype for p in procs} | {
        a.proctype for _, a in snapshot.every_assessor() if a.proctype
    }
    chosen: list[str] = []
    for name in names:
        found = [t for t in known if name in (t, t.rsplit("_v", 1)[0])]
        if not found:
            listed = ", ".join(sorted(known)) or "none"
            raise fail(f"no processor named {name!r} in {snapshot.project}; known: {listed}")
        chosen += found
    return chosen


async def _snapshot(settings: AspiderSettings, project: str, wiring: Wiring) -> ProjectSnapshot:
    async with wiring.open_xnat(settings, [project]) as xnat:
        return await xnat.project_snapshot(project, subject_assessors=True)


def _jobs(
    settings: AspiderSettings, snapshot: ProjectSnapshot, ours: list[Processor]
) -> tuple[list[JobObservation] | None, typer.Exit | None]:
    """The followed jobs as the cluster sees them, or the cluster's error to raise after."""
    chosen = {snapshot.project: ours}
    try:
        with user_errors():
            observed = anyio.run(observe_followed_jobs, settings, [snapshot], chosen)
    except typer.Exit as exc:
        return None, exc
    return observed, None


def rerun(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project ID in XNAT.")],
    processor: Annotated[list[str] | None, PROCESSOR_OPTION] = None,
    status_filter: Annotated[
        list[str] | None,
        typer.Option("--status", help="Only tasks in this status, e.g. JOB_FAILED; repeatable."),
    ] = None,
    session: Annotated[
        list[str] | None,
        typer.Option("--session", "-s", help="Only this session (label); repeatable."),
    ] = None,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="List what would go back; change nothing."
    ),
    cancel: bool = typer.Option(
        False,
        "--cancel",
        help="Also send back tasks whose job is queued or running (JOB_RUNNING), cancelling "
        "that job first (an array's element alone).",
    ),
    stale: bool = typer.Option(
        False,
        "--stale",
        help="Only the stale results (as `status --stale` lists them), each one's history "
        "saying why.",
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    as_json: bool = JSON_OPTION,
    settings_file: Path | None = SETTINGS_OPTION,
) -> None:
    """
    Send tasks back to run again (shows them and asks first).

    The tasks chosen go back to NEED_TO_RUN; the next `aspider run` removes their outputs and
    submits them again. Tasks whose job may still run are left alone, unless --cancel: then a
    task whose job is queued or running has that job cancelled first (the job recorded on it;
    of a job array, only its element), and its history says so. Tasks whose outputs are being
    uploaded are still left alone. --yes skips the question, --dry-run only lists.
    """
    statuses = [s.upper() for s in status_filter or []]
    for s in statuses:
        if normalise_procstatus(s) is None:
            raise fail(f"unknown status {s!r}; one of {', '.join(p.value for p in ProcStatus)}")
    with user_errors(as_json):
        settings = settings_from(settings_file)
        loaded = processors_from(settings, only=processor or [])
        proctypes = {p.proctype for p in loaded}
        args = (settings, project, proctypes, statuses, session or [])
        judged = for_project(settings, project, loaded) if stale else None
        preview = anyio.run(
            lambda: read_rerun(*args, cancel=cancel, stale=judged, wiring=wiring_of(ctx))
        )
    if dry_run or not preview.chosen:
        _show_rerun(preview, as_json, done=False)
        return
    if not yes:
        _confirm(preview, as_json)
    with user_errors(as_json):
        only = preview.confirmed  # with the jobs shown: none other is cancelled
        result = anyio.run(
            lambda: send_back(*args, only=only, cancel=cancel, stale=judged, wiring=wiring_of(ctx))
        )
    _show_rerun(result, as_json, done=True)


def _confirm(preview: RerunResult, as_json: bool) -> None:
    """Ask a person at a terminal; anyone else must have said --yes."""
    n = len(preview.chosen)
    jobs = _cancels(preview)
    if as_json or not sys.stdin.isatty():
        raise fail(
            f"{n} task(s) would be sent back{jobs}; pass --yes to send them back "
            "(or --dry-run to list them)",
            EXIT_USAGE,
        )
    _rerun_table(preview)
    if not typer.confirm(f"Send these {n} task(s) back to run again{jobs}?", default=False):
        raise fail("nothing sent back", EXIT_FAILED)


def _cancels(result: RerunResult) -> str:
    """`, cancelling N job(s) first` when --cancel chose tasks whose job may still run."""
    n = len(result.cancelled_jobs)
    return f", cancelling {n} job(s) first" if n else ""


def _show_rerun(result: RerunResult, as_json: bool, *, done: bool) -> None:
    if as_json:
        data: dict[str, Any] = {
            "sent_back" if done else "would_send_back": result.sent_back,
            "left_running": result.left_running,
            "cancelled" if done else "would_cancel": result.cancelled_jobs,
        }
        stale = {t.label: t.stale for t in result.chosen if t.stale}
        if stale:
            data["stale"] = stale
        print_json(data)
        return
    _rerun_table(result)
    for label in result.left_running:
        console.print(f"left alone (its job may still run): {label}", highlight=False, markup=False)
    n, jobs = len(result.chosen), len(result.cancelled_jobs)
    said = (
        f"{n} task(s) sent back; the next `aspider run` runs them again"
        if done
        else f"{n} task(s) would be sent back; nothing changed"
    )
    if jobs:
        said += f" ({jobs} job(s) {'cancelled' if done else 'to cancel first'})"
    console.print(said, highlight=False)


def _rerun_table(result: RerunResult) -> None:
    if not result.chosen:
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    cancels = bool(result.cancelled_jobs)
    stale = any(t.stale for t in result.chosen)
    for column in ("processor", "session", "status now"):
        table.add_column(column, overflow="fold")
    if cancels:
        table.add_column("job (cancelled first)", overflow="fold")
    if stale:
        table.add_column("stale because", overflow="fold")
    for t in result.chosen:
        job = (escape(t.job_id or "-"),) if cancels else ()
        why = (escape(t.stale),) if stale else ()
        table.add_row(escape(t.proctype), escape(t.session), escape(t.procstatus), *job, *why)
    console.print(table)
