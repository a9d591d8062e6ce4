"""`aspider status PROJ --history LABEL`: one task's transitions, from XNAT's workflow entries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from aspider.cli.common import EXIT_FAILED, EXIT_USAGE, fail, print_json, user_errors
from aspider.plan import proctype_of_label
from aspider.run import Wiring, read_history
from aspider.settings import AspiderSettings
from xnat_client import Workflow


def show_history(
    console: Console,
    settings: AspiderSettings,
    wiring: Wiring,
    project: str,
    label: str,
    processors: Sequence[str],
    as_json: bool,
) -> None:
    """Print the entries (a table, or JSON); exit 1 when XNAT holds none for the label."""
    proctype = _proctype(label, processors)
    with user_errors():
        entries = anyio.run(_read, settings, wiring, project, label, proctype)
    if not entries:
        raise fail(
            f"no status history for {label} in XNAT: no assessor of {proctype} by that label "
            f"in {project}, or none was recorded (xnat.history off)",
            EXIT_FAILED,
        )
    if as_json:
        print_json(
            {
                "project": project,
                "label": label,
                "proctype": proctype,
                "history": [history_json(w) for w in entries],
            }
        )
        return
    console.print(label, markup=False, highlight=False)
    console.print(f"{proctype}: {len(entries)} transition(s)", markup=False, highlight=False)
    console.print(history_table(entries))


def _proctype(label: str, processors: Sequence[str]) -> str:
    if len(processors) == 1:
        return processors[0]
    found = proctype_of_label(label)
    if found is None or len(processors) > 1:
        raise fail(f"cannot tell the processor of {label!r}: name it with --processor", EXIT_USAGE)
    return found


async def _read(
    settings: AspiderSettings, wiring: Wiring, project: str, label: str, proctype: str
) -> list[Workflow]:
    async with wiring.open_xnat(settings, [project]) as xnat:
        return await read_history(xnat, project, label, proctype)


def history_table(entries: Sequence[Workflow]) -> Table:
    """When, the status it left, and what happened (folded, never cut): fits 80 columns."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("when", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("what happened", overflow="fold", ratio=1)
    for w in entries:
        when = f"{w.launch_time:%Y-%m-%d %H:%M:%S}"
        table.add_row(when, Text(w.step_id or w.status), Text(w.step_description or w.status))
    return table


def history_json(w: Workflow) -> dict[str, Any]:
    data = w.model_dump(mode="json")
    data["xnat_status"] = data.pop("status")
    data["procstatus"] = data.pop("step_id")
    return data
