"""`aspider explain PROJECT SESSION`: can each processor run here, and if not, why."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich.markup import escape

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
from aspider.cli.words import will
from aspider.plan import (
    IN_FLIGHT,
    ProcessorExplanation,
    explain_session,
)
from aspider.run import preview, unknown_sessions


def explain(
    ctx: typer.Context,
    project: str = typer.Argument(..., help="Project ID in XNAT."),
    session: str = typer.Argument(..., help="Session label in XNAT."),
    processor: Annotated[
        list[str] | None, typer.Option("--processor", "-p", help="Only this processor.")
    ] = None,
    as_json: bool = JSON_OPTION,
    settings_file: Path | None = SETTINGS_OPTION,
) -> None:
    """
    What each processor will do for one session, and why.

    For each processor: whether it applies, which scan or assessor each input is and which
    files it stages, what is missing, the task's status in XNAT, and what the next sweep does.
    """
    with user_errors(as_json):
        settings = settings_from(settings_file)
        procs = processors_from(settings, only=processor or [])
        wiring = wiring_of(ctx)
        seen = anyio.run(
            lambda: preview(settings, [project], procs, wiring=wiring, every_match=True)
        )
        snapshot = seen.snapshots[0]
        missing = unknown_sessions([snapshot], [session])
        if missing:
            raise fail(missing, EXIT_USAGE)
    report = explain_session(snapshot, session, seen.matches, seen.plan)
    if as_json:
        print_json([asdict(r) | {"can_run": r.can_run} for r in report])
        return
    for item in report:
        _print(item)


def _print(item: ProcessorExplanation) -> None:
    head = f"[bold]{escape(item.proctype)}[/bold] ({escape(item.procversion)}, {item.level} level)"
    if not item.applies:
        console.print(f"{head}: does not apply here")
        for reason in item.reasons:
            _line(f"  - {reason}")
        return
    console.print(f"{head}: {headline(item)}")
    for task in item.tasks:
        _line(f"  task {task['label']}")
        _line(f"    {_state(task['assessor'])}")
        retry = (task["assessor"] or {}).get("retry")
        if retry:
            _line(f"    {attempts(retry)}")
        for why in (task["assessor"] or {}).get("stale", []):
            _line(f"    stale: {why}")
        for inp in task["inputs"]:
            _line(f"    input {inp['name']}: {_source(inp)}")
            for res in inp["resources"]:
                _line(f"      {_files(res)}")
        for sentence in outlook(task):
            _line(f"    - {sentence}")
    for finding in item.findings:
        _line(f"  ! {finding}")


def headline(item: ProcessorExplanation) -> str:
    """The processor's outlook here in a few words."""
    tasks = item.tasks
    if any(t["planned"] for t in tasks):
        return "work to do at the next sweep"
    if tasks and all((t["assessor"] or {}).get("procstatus") == "COMPLETE" for t in tasks):
        return "done"
    if not item.can_run:
        return "waits for its inputs"
    return "nothing to do now"


def _line(text: str) -> None:
    console.print(text, markup=False, highlight=False)


def _state(assr: dict[str, Any] | None) -> str:
    if assr is None:
        return "not in XNAT yet"
    qc = f", QC {assr['qcstatus']}" if assr["qcstatus"] else ""
    job = f", job {assr['jobid']}" if assr["jobid"] else ""
    return f"in XNAT as {assr['procstatus'] or '(no status)'}{qc}{job}"


def attempts(retry: dict[str, Any]) -> str:
    """`attempt 2 of 3; next request: 8 GB, 03:00:00` (or: no attempt left)."""
    said = f"attempt {retry['attempt']} of {retry['attempts']}"
    nxt = retry["next_request"]
    return f"{said}; next request: {nxt}" if nxt else f"{said}; no attempt left"


def _source(inp: dict[str, Any]) -> str:
    if inp["kind"] == "scan":
        return f"scan {inp['scan']}"
    where = f" of session {inp['session']}" if inp.get("session") else ""
    return f"assessor {inp['assessor']}{where}"


def _files(res: dict[str, Any]) -> str:
    """One resource of an input, as the files the job will find."""
    which = f"files {res['fmatch']}" if res["fmatch"] else "every file"
    staged = f", staged as {res['fdest']}" if res["fdest"] else ""
    count = res.get("files")
    found = f" ({count} found)" if isinstance(count, int) else ""
    return f"{which} of resource {res['resource']}{found}{staged}"


def outlook(task: dict[str, Any]) -> list[str]:
    """What will happen to a task at the next sweep, or why nothing will, in sentences."""
    planned: list[str] = task["planned"]
    ready, reasons, assr = task["ready"], task["reasons"], task["assessor"]
    waits = "; ".join(reasons)
    said: list[str] = []
    for kind in planned:
        if kind == "create":
            status = "NEED_TO_RUN: its inputs are all there" if ready else f"NEED_INPUTS: {waits}"
            said.append(f"will be created in XNAT as {status}")
        elif kind == "set_status":
            said.append(
                "its inputs are all there now: it becomes NEED_TO_RUN"
                if ready
                else f"still waits for its inputs: {waits}"
            )
        else:
            said.append(will(kind))
    if ready and "submit" not in planned and _waits_for_queue(assr, planned):
        said.append("will be submitted when the queue has room (limits.max_queued)")
    if not planned:
        said.append(_unchanged(assr, ready, waits))
    if assr is not None and assr["note"]:
        said.append(f"note in XNAT: {assr['note']}")
    return said


def _waits_for_queue(assr: dict[str, Any] | None, planned: list[str]) -> bool:
    status = (assr or {}).get("procstatus", "")
    return (assr is None and "create" in planned) or status == "NEED_TO_RUN"


def _unchanged(assr: dict[str, Any] | None, ready: bool, waits: str) -> str:
    status = (assr or {}).get("procstatus", "")
    if status == "COMPLETE":
        return "done: nothing to do"
    if status in IN_FLIGHT:
        return "its job is under way: the sweep follows it"
    if status == "JOB_FAILED":
        return "failed: `aspider rerun` sends it back to run again"
    if not ready:
        return f"waits for its inputs: {waits}"
    return "nothing to do at this sweep"
