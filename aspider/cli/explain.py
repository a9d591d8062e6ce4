"""`aspider explain PROJECT SESSION`: can each processor run here, and if not, why."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.markup import escape

from aspider.cli.common import (
    EXIT_FAILED,
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
from aspider.plan import ProcessorExplanation, explain_session, match_snapshots, plan
from aspider.run.engine import Wiring, read_snapshots
from aspider.run.runner import plan_limits
from aspider.settings import AspiderSettings
from xnat_client import ProjectSnapshot


def explain(
    ctx: typer.Context,
    project: str = typer.Argument(..., help="Project ID."),
    session: str = typer.Argument(..., help="Session label."),
    processor: Annotated[
        list[str] | None, typer.Option("--processor", "-p", help="Only this processor.")
    ] = None,
    as_json: bool = JSON_OPTION,
    settings_file: Path | None = SETTINGS_OPTION,
) -> None:
    """For each processor: can it run, which inputs resolve where, what is missing, its status."""
    with user_errors():
        settings = settings_from(settings_file)
        procs = processors_from(settings, only=processor or [])
        snapshots = anyio.run(_snapshots, settings, project, wiring_of(ctx))
        matches = anyio.run(match_snapshots, snapshots, procs)
        limits = plan_limits(settings)
        the_plan = plan(snapshots, matches, (), limits, settings.cluster.container_dir)
    if snapshots[0].session(session) is None:
        raise fail(f"project {project} has no session labelled {session!r}", EXIT_FAILED)
    report = explain_session(snapshots[0], session, matches, the_plan)
    if as_json:
        print_json([asdict(r) | {"can_run": r.can_run} for r in report])
        return
    for item in report:
        _print(item)


async def _snapshots(
    settings: AspiderSettings, project: str, wiring: Wiring
) -> list[ProjectSnapshot]:
    async with wiring.open_xnat(settings) as xnat:
        return await read_snapshots(xnat, [project])


def _print(item: ProcessorExplanation) -> None:
    head = f"[bold]{escape(item.proctype)}[/bold] ({escape(item.procversion)}, {item.level})"
    if not item.applies:
        console.print(f"{head}: does not apply")
        for reason in item.reasons:
            console.print(f"  - {reason}", markup=False, highlight=False)
        return
    console.print(f"{head}: {'can run' if item.can_run else 'blocked'}")
    for task in item.tasks:
        assr = task["assessor"]
        state = (
            "not created yet"
            if assr is None
            else f"{assr['procstatus']} / QC {assr['qcstatus'] or '-'}"
        )
        console.print(f"  {task['label']}: {state}", markup=False, highlight=False)
        for inp in task["inputs"]:
            where = (
                f"scan {inp['scan']}" if inp["kind"] == "scan" else f"assessor {inp['assessor']}"
            )
            res = ", ".join(
                f"{r['resource']}[{r['fmatch']}]->{r['fdest'] or '(same name)'}"
                for r in inp["resources"]
            )
            console.print(
                f"    {inp['name']} = {where} ({res or 'no resources'})",
                markup=False,
                highlight=False,
            )
        for reason in task["reasons"]:
            console.print(f"    blocked: {reason}", markup=False, highlight=False)
        if assr is not None and assr["note"]:
            console.print(f"    note: {assr['note']}", markup=False, highlight=False)
        if task["planned"]:
            console.print(f"    next: {', '.join(task['planned'])}", markup=False, highlight=False)
    for finding in item.findings:
        console.print(f"  ! {finding}", markup=False, highlight=False)
