"""
What people and scripts read after a sweep: the summary of what was done, and the status of a
project's tasks (counts by processor and status, and every failing or blocked task's reason).

Pure functions from data to rows, plus thin rich renderers, so `--json` and the tables always
say the same thing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aspider.plan.states import ProcStatus, normalise_procstatus
from aspider.run.sweep import SweepReport
from xnat_client import ProjectSnapshot

SUMMARY_COLUMNS = ("created", "submitted", "adopted", "completed", "failed", "waiting", "rerun")
_ATTENTION = (ProcStatus.JOB_FAILED, ProcStatus.NEED_INPUTS, ProcStatus.UPLOADING)


def summary_rows(reports: Sequence[SweepReport]) -> dict[str, dict[str, int]]:
    """
    proctype -> {what: count} over every sweep; "waiting" is the tasks still waiting for
    inputs after the last sweep that acted on them, not how often one was found waiting.
    """
    totals: Counter[tuple[str, str]] = Counter()
    waiting: dict[str, str] = {}  # label -> proctype
    for report in reports:
        totals.update(report.outcome.counts)
        for label in report.outcome.moved:
            waiting.pop(label, None)
        waiting.update(report.outcome.waiting)
    totals = Counter({key: n for key, n in totals.items() if key[1] != "waiting"})
    totals.update((proctype, "waiting") for proctype in waiting.values())
    rows: dict[str, dict[str, int]] = {}
    for (proctype, what), n in sorted(totals.items()):
        rows.setdefault(proctype, dict.fromkeys(SUMMARY_COLUMNS, 0))[what] = n
    return rows


def summary_json(reports: Sequence[SweepReport]) -> dict[str, Any]:
    return {
        "by_processor": summary_rows(reports),
        "failures": [
            {"label": label, "reason": reason}
            for r in reports
            for label, reason in r.outcome.failures
        ],
        "transient_failures": [
            {"project": r.project, "label": label, "reason": reason}
            for r in reports
            for label, reason in r.outcome.transient
        ],
        "session_errors": [
            {"project": r.project, "session": s, "error": e}
            for r in reports
            for s, e in r.session_errors
        ],
        "sweeps": len(reports),
        "still_active": reports[-1].active if reports else 0,
        "xnat_requests": sum(r.requests for r in reports),
    }


def print_summary(console: Console, reports: Sequence[SweepReport]) -> None:
    rows = summary_rows(reports)
    # Light borders and single gaps: eight columns fit an 80-column terminal unabridged.
    table = Table(title="Sweep summary", box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
    table.add_column("processor", no_wrap=True)
    for column in SUMMARY_COLUMNS:
        table.add_column(column, justify="right")
    for proctype, counts in rows.items():
        table.add_row(proctype, *(str(counts[c]) for c in SUMMARY_COLUMNS))
    if not rows:
        table.add_row("(nothing to do)", *("" for _ in SUMMARY_COLUMNS))
    console.print(table)
    for r in reports:
        for label, reason in r.outcome.failures:
            console.print(f"[red]failed[/red] {escape(label)}: {escape(reason)}", highlight=False)
        for session, error in r.session_errors:
            console.print(f"[red]session {escape(session)}[/red]: {escape(error)}", highlight=False)


@dataclass(frozen=True)
class TaskLine:
    proctype: str
    session: str
    label: str
    procstatus: str
    qcstatus: str
    reason: str


def status_of(
    snapshot: ProjectSnapshot, proctypes: Sequence[str] = ()
) -> tuple[dict[str, Counter[str]], list[TaskLine]]:
    """Counts by proctype and procstatus, and the tasks that need a person's attention."""
    counts: dict[str, Counter[str]] = {}
    attention: list[TaskLine] = []
    for session in snapshot.sessions:
        for a in session.assessors:
            if proctypes and a.proctype not in proctypes:
                continue
            counts.setdefault(a.proctype, Counter())[a.procstatus or "(none)"] += 1
            if normalise_procstatus(a.procstatus) in _ATTENTION:
                attention.append(
                    TaskLine(a.proctype, session.label, a.label, a.procstatus, a.qcstatus, a.note)
                )
    return counts, attention


def status_json(snapshot: ProjectSnapshot, proctypes: Sequence[str] = ()) -> dict[str, Any]:
    counts, attention = status_of(snapshot, proctypes)
    return {
        "project": snapshot.project,
        "counts": {p: dict(c) for p, c in sorted(counts.items())},
        "attention": [t.__dict__ for t in attention],
    }


def print_status(
    console: Console, snapshot: ProjectSnapshot, proctypes: Sequence[str] = ()
) -> None:
    counts, attention = status_of(snapshot, proctypes)
    present = {s for c in counts.values() for s in c}
    order = [s.value for s in ProcStatus]
    columns = [s for s in order if s in present] + sorted(present - set(order))
    table = Table(title=f"Project {snapshot.project}")
    table.add_column("processor")
    for status in columns:
        table.add_column(status, justify="right")
    for proctype, c in sorted(counts.items()):
        table.add_row(proctype, *(str(c.get(s, 0) or "") for s in columns))
    if not counts:
        table.add_row("(no assessors)")
    console.print(table)
    if attention:
        detail = Table(title="Needs attention")
        for column in ("processor", "session", "status", "reason"):
            detail.add_column(column, overflow="fold")
        for t in attention:
            detail.add_row(t.proctype, t.session, t.procstatus, t.reason or "(no reason recorded)")
        console.print(detail)
