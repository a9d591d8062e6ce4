"""
`aspider serve` (the service: events, change polls, job following, the status page, metrics)
and `aspider report PROJ --html FILE` (the same page, once, for cron users).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import anyio
import typer

from aspider.cli.common import (
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
from aspider.serve import read_statuses, report_html
from aspider.serve import serve as run_service


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on (serve.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (serve.port).")] = None,
    log_format: Annotated[
        LogFormat, typer.Option("--log-format", help="text, or json for containers.")
    ] = "text",
    settings_file: Path | None = SETTINGS_OPTION,
) -> None:
    """Sweep new sessions within seconds of a POST or a change; serve status and metrics."""
    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    setup_logging(log_format, verbose=True)
    with user_errors():
        settings = settings_from(settings_file, {"serve": overrides} if overrides else None)
        procs = processors_from(settings)
        projects = sorted(settings.projects)
        wiring = wiring_of(ctx)
        anyio.run(lambda: run_service(settings, procs, projects, wiring=wiring))


def report(
    ctx: typer.Context,
    projects: Annotated[
        list[str] | None, typer.Argument(help="Project IDs (default: every configured).")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the status page to this file.")
    ] = None,
    settings_file: Path | None = SETTINGS_OPTION,
) -> None:
    """The status page of `aspider serve` from XNAT as it is now: to a file, or JSON."""
    with user_errors():
        settings = settings_from(settings_file)
        names = projects or sorted(settings.projects)
        if not names:
            raise fail("no projects given and none configured (settings: projects)")
        procs = processors_from(settings)
        wiring = wiring_of(ctx)
        statuses = anyio.run(lambda: read_statuses(settings, names, procs, wiring=wiring))
    if html is None:
        print_json({"projects": [s.to_json() for s in statuses]})
        return
    html.write_text(report_html(statuses), encoding="utf-8")
    console.print(f"wrote {html}", highlight=False, markup=False)
