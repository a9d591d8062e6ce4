"""`aspider tune`: what each processor's jobs used against what they asked, and what to ask."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer

from aspider.cli.common import (
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
from aspider.plan.tuning import ProcessorUsage, Spread
from aspider.processors import Processor, format_duration
from aspider.run import read_usage

PROCESSOR_OPTION = typer.Option(
    "--processor", "-p", help="Only this processor (name, or name_vN); repeat for more."
)


def tune(
    ctx: typer.Context,
    projects: Annotated[
        list[str] | None,
        typer.Argument(help="Project IDs in XNAT (default: every configured project)."),
    ] = None,
    processor: Annotated[list[str] | None, PROCESSOR_OPTION] = None,
    since: int | None = typer.Option(
        None, "--since", min=1, help="Only jobs started in the last DAYS days."
    ),
    as_json: bool = JSON_OPTION,
    settings_file: Path | None = SETTINGS_OPTION,
) -> None:
    """
    What each processor's jobs used against what they asked, and the request to make.

    Per processor: memory and walltime used (50th and 95th percentile, most) against what was
    asked, CPU efficiency, memory asked and never used (GB-hours), failures by cause, and the
    suggested request with what it would have done to the past jobs. Read from XNAT (the
    jobs' records in their assessors), so every host sees the same. A processor whose
    requirements say `tune: [memory, walltime]` asks for the suggestion by itself.
    """
    with user_errors(as_json):
        settings = settings_from(settings_file)
        names = list(projects or []) or sorted(settings.projects)
        if not names:
            raise fail(
                "no project given: name the ones to look at (`aspider tune PROJ`), or list "
                "them under `projects:` in the settings",
                EXIT_USAGE,
            )
        procs = processors_from(settings, only=processor or [])
        found = anyio.run(
            lambda: read_usage(settings, names, procs, since_days=since, wiring=wiring_of(ctx))
        )
    if as_json:
        print_json({"projects": names, "since_days": since, "processors": _json(found, procs)})
        return
    by_type = {p.proctype: p for p in procs}
    for item in found:
        for line in describe(item, by_type[item.proctype]):
            console.print(line, highlight=False, markup=False)


def _json(found: list[ProcessorUsage], procs: list[Processor]) -> list[dict[str, Any]]:
    tuned = {p.proctype: list(p.spec.requirements.tune) for p in procs}
    return [{**dataclasses.asdict(u), "tune": tuned[u.proctype]} for u in found]


def describe(u: ProcessorUsage, proc: Processor) -> list[str]:
    """A few lines of at most 80 columns for one processor."""
    failed = ", ".join(f"{cause} {n}" for cause, n in sorted(u.failures.items()))
    head = f"{u.proctype}: {u.jobs} job(s), {u.succeeded} succeeded"
    lines = [head + (f"; failed: {failed}" if failed else "")]
    if not u.jobs:
        return [*lines, "  no ended job recorded yet", ""]
    req = proc.spec.requirements
    lines.append(f"  memory    used {_spread(u.memory_used, _mb)}; asked {_mb(req.memory_mb)}")
    lines.append(
        f"  walltime  used {_spread(u.walltime_used, format_duration)}; "
        f"asked {format_duration(req.walltime_seconds)}"
    )
    if u.cpu_efficiency is not None:
        lines.append(
            f"  cpu       {u.cpu_efficiency:.0%} of the cores asked for kept busy (median)"
        )
    if u.memory_used is not None:
        lines.append(f"  waste     {u.wasted_gb_hours:.1f} GB-hours of memory asked and not used")
    lines += _suggestion_lines(u, proc)
    return [*lines, ""]


def _suggestion_lines(u: ProcessorUsage, proc: Processor) -> list[str]:
    s = u.suggestion
    if s is None:
        return [f"  suggest   none: {u.why_none}"]
    req = proc.spec.requirements
    asked = []
    if s.memory_mb is not None:
        same = " (as now)" if s.memory_mb == req.memory_mb else ""
        asked.append(f"memory {_mb(s.memory_mb)}{same}")
    if s.walltime_seconds is not None:
        same = " (as now)" if s.walltime_seconds == req.walltime_seconds else ""
        asked.append(f"walltime {format_duration(s.walltime_seconds)}{same}")
    tuned = proc.spec.requirements.tune
    how = f"asked by itself ({', '.join(tuned)})" if tuned else "ask it with requirements.tune"
    return [
        f"  suggest   {', '.join(asked)}, from {s.from_jobs} jobs",
        f"            {how}",
        (
            f"            saves {s.saved_gb_hours_per_100:.1f} GB-hours of memory per 100 jobs; "
            f"{s.would_have_killed} past job(s) used more"
        ),
    ]


def _spread(spread: Spread | None, shown: Callable[[int], str]) -> str:
    if spread is None:
        return "unknown"
    return f"p50 {shown(spread.p50)}, p95 {shown(spread.p95)}, most {shown(spread.max)}"


def _mb(mb: int) -> str:
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb} MB"
