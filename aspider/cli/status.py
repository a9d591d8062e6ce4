"""`aspider status` and `aspider rerun`: a project's tasks as XNAT holds them; sending some back."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import anyio
import typer

from aspider.cli.common import (
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
from aspider.cli.report import print_status, status_json
from aspider.plan import ProcStatus, normalise_procstatus
from aspider.run.engine import Wiring
from aspider.run.rerun import send_back
from aspider.settings import AspiderSettings
from xnat_client import ProjectSnapshot


def status(
    ctx: typer.Context,
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
        snapshot = anyio.run(_snapshot, settings, project, wiring_of(ctx))
    proctypes = _proctypes(processor or [])
    if as_json:
        print_json(status_json(snapshot, proctypes))
    else:
        print_status(console, snapshot, proctypes)


async def _snapshot(settings: AspiderSettings, project: str, wiring: Wiring) -> ProjectSnapshot:
    async with wiring.xnat(settings) as xnat:
        return await xnat.project_snapshot(project)


def _proctypes(names: Sequence[str]) -> list[str]:
    """`fs7` or `fs7_v1` both name the proctype `fs7_v1`; keep both spellings to match."""
    return [n for name in names for n in (name, f"{name}_v1")] if names else []


def rerun(
    ctx: typer.Context,
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
        result = anyio.run(
            lambda: send_back(
                settings, project, proctypes, statuses, session or [], wiring=wiring_of(ctx)
            )
        )
    sent, kept = result.sent_back, result.left_running
    if as_json:
        print_json({"project": project, "sent_back": sent, "left_running": kept})
        return
    for label in sent:
        console.print(f"sent back: {label}", highlight=False, markup=False)
    for label in kept:
        console.print(f"left alone (its job may still run): {label}", highlight=False, markup=False)
    console.print(f"{len(sent)} task(s) will run again at the next sweep", highlight=False)
