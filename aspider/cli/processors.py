"""`aspider processors`: list (and validate) processors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from aspider._exceptions import ConfigError, ProcessorError
from aspider.cli.common import (
    EXIT_FAILED,
    JSON_OPTION,
    SETTINGS_OPTION,
    WIDE_OPTION,
    console,
    errors,
    print_json,
    processors_from,
    settings_from,
    user_errors,
    wide_console,
)
from aspider.processors import Processor, ScanInput, iter_inputs


def processors(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Processor files or directories.")
    ] = None,
    validate: bool = typer.Option(False, "--validate", help="Only validate; exit 1 if invalid."),
    as_json: bool = JSON_OPTION,
    wide: bool = WIDE_OPTION,
    settings_file: Path | None = SETTINGS_OPTION,
) -> None:
    """
    List (or check) processor files.

    Shows each processor's name, level, inputs and requirements; an invalid file is reported
    as file:line: field, and makes the command exit 1. Notes (keys DAX reads differently or not
    at all) are printed after, one per line; they do not make a file invalid.
    """
    with user_errors(as_json):
        settings = settings_from(settings_file)
        try:
            loaded = processors_from(settings, paths or [])
        except ProcessorError as exc:
            if as_json:
                print_json({"valid": False, "errors": [str(i) for i in exc.issues]})
            else:
                for issue in exc.issues:
                    errors.print(str(issue), highlight=False, markup=False)
            raise typer.Exit(EXIT_FAILED) from exc
        except ConfigError:
            raise
    if as_json:
        print_json({"valid": True, "processors": [describe(p) for p in loaded]})
        return
    if validate:
        console.print(f"{len(loaded)} processor(s) valid", highlight=False)
    else:
        (wide_console if wide else console).print(_table(loaded, wide))
    for note in (n for p in loaded for n in p.notes):
        errors.print(f"note: {note}", highlight=False, markup=False)


def describe(p: Processor) -> dict[str, object]:
    req = p.spec.requirements
    return {
        "proctype": p.proctype,
        "procversion": p.procversion,
        "level": p.level,
        "priority": p.priority,
        "source": p.source,
        "inputs": [_input(item) for _, item in iter_inputs(p.spec)] + _analysis(p),
        "requirements": {"walltime": str(req.walltime), "memory_mb": req.memory_mb, "ppn": req.ppn},
        "needs": sorted(p.upstream_proctypes),
        "notes": list(p.notes),
    }


def _analysis(p: Processor) -> list[str]:
    """A project analysis's inputs (DAX's inputs.xnat.subjects), which have no names."""
    subjects = p.spec.inputs.xnat.subjects
    if subjects is None:
        return []
    found = [f"subjects' assessors: {a.proctypes or a.types}" for a in subjects.assessors]
    for group in subjects.sessions:
        where = f"sessions {group.types}" if group.types else "every session"
        found += [f"{where}: scan {s.types}" for s in group.scans]
        found += [f"{where}: assessor {a.proctypes or a.types}" for a in group.assessors]
    return found


def _input(item: object) -> str:
    if isinstance(item, ScanInput):
        return f"{item.name}: scan {item.types}"
    name = getattr(item, "name", "?")
    return f"{name}: assessor {','.join(getattr(item, 'proctype_list', ()))}"


def _table(loaded: list[Processor], wide: bool) -> Table:
    """
    Each processor on a few lines that fit 80 columns: its inputs by name, the proctype never
    cut. --wide adds what each input matches (scan types, upstream proctypes).
    """
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0))
    table.add_column("proctype", overflow="fold", min_width=min(24, _longest(loaded)))
    for name in ("version", "level", "inputs", "walltime", "memory", "ppn"):
        table.add_column(name, overflow="fold")
    for p in loaded:
        req = p.spec.requirements
        inputs = describe(p)["inputs"] if wide else _input_names(p)
        table.add_row(
            p.proctype,
            p.procversion,
            p.level,
            "\n".join(str(i) for i in inputs),  # type: ignore[attr-defined]
            str(req.walltime),
            f"{req.memory_mb} MB",
            str(req.ppn),
        )
    return table


def _longest(loaded: list[Processor]) -> int:
    return max((len(p.proctype) for p in loaded), default=8)


def _input_names(p: Processor) -> list[str]:
    names = [getattr(item, "name", "?") for _, item in iter_inputs(p.spec)]
    return names + (["(subjects)"] if p.spec.inputs.xnat.subjects is not None else [])
