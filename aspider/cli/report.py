"""
What people and scripts read after a sweep: the summary of what was done, and the status of a
project's tasks (counts by processor and status, and every failing or blocked task's reason).

Pure functions from data to rows, plus thin rich renderers, so `--json` and the tables always
say the same thing. The tables fit 80 columns by showing what matters and folding the rest;
`--wide` shows every column and `--json` everything.
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

from aspider.plan import JobObservation
from aspider.plan.states import IN_FLIGHT, ProcStatus, normalise_procstatus
from aspider.run import RunResult, SweepReport, run_ending
from xnat_client import ProjectSnapshot

SUMMARY_COLUMNS = ("created", "submitted", "adopted", "completed", "failed", "waiting", "rerun")
_ALWAYS_SHOWN = ("created", "submitted", "completed", "failed")
_ATTENTION = (ProcStatus.JOB_FAILED, ProcStatus.NEED_INPUTS, ProcStatus.UPLOADING)

# The status table in 80 columns: the eight statuses as five a person acts on, and the rest.
STATUS_GROUPS: dict[str, tuple[ProcStatus, ...]] = {
    "done": (ProcStatus.COMPLETE,),
    "running": tuple(sorted(IN_FLIGHT)),
    "to run": (ProcStatus.NEED_TO_RUN,),
    "no inputs": (ProcStatus.NEED_INPUTS,),
    "failed": (ProcStatus.JOB_FAILED,),
}
_OTHER = "other"


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
    """
    What the sweeps did. `failures` and `session_errors` are what stands at the end;
    `transient_failures` what failed on the way and a later sweep put right.
    """
    ending = run_ending(reports)
    return {
        "by_processor": summary_rows(reports),
        "failures": [{"label": label, "reason": reason} for label, reason in ending.failures],
        "session_errors": [
            {"project": p, "session": s, "error": e} for p, s, e in ending.session_errors
        ],
        "transient_failures": ending.transient,
        "held_back": [
            {"project": p, "label": label, "reason": why} for p, label, why in ending.held_back
        ],
        "sweeps": len(reports),
        "still_active": reports[-1].active if reports else 0,
        "xnat_requests": sum(r.requests for r in reports),
    }


def run_summary(result: RunResult) -> dict[str, Any]:
    """The summary of a whole run, with how it ended (the exit status says the same)."""
    summary = summary_json(result.reports)
    if not result.ok:
        ended = "failed"
    elif summary["still_active"]:
        ended = "waiting on jobs"
    else:
        ended = "done"
    return {
        **summary,
        "ended": ended,
        "refused_projects": result.refused,
        "failed_projects": result.failed,
    }


def print_summary(console: Console, reports: Sequence[SweepReport], wide: bool = False) -> None:
    rows = summary_rows(reports)
    shown = [
        c
        for c in SUMMARY_COLUMNS
        if wide or c in _ALWAYS_SHOWN or any(counts[c] for counts in rows.values())
    ]
    table = Table(title="Sweep summary", box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
    table.add_column("processor", overflow="fold")
    for column in shown:
        table.add_column(column, justify="right", no_wrap=True)
    for proctype, counts in rows.items():
        table.add_row(escape(proctype), *(str(counts[c]) for c in shown))
    if not rows:
        table.add_row("(nothing to do)", *("" for _ in shown))
    console.print(table)
    ending = run_ending(reports)
    for label, reason in ending.failures:
        console.print(f"[red]failed[/red] {escape(label)}: {escape(reason)}", highlight=False)
    for _, session, error in ending.session_errors:
        console.print(f"[red]session {escape(session)}[/red]: {escape(error)}", highlight=False)
    for item in ending.transient:
        what = item.get("label") or f"session {item.get('session', '')}"
        why = item.get("reason") or item.get("error", "")
        console.print(
            f"[yellow]put right by a later sweep[/yellow] {escape(what)}: {escape(why)}",
            highlight=False,
        )


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
    for where, a in snapshot.every_assessor():
        if proctypes and a.proctype not in proctypes:
            continue
        counts.setdefault(a.proctype, Counter())[a.procstatus or "(none)"] += 1
        if normalise_procstatus(a.procstatus) in _ATTENTION:
            attention.append(TaskLine(a.proctype, where, a.label, a.procstatus, a.qcstatus, a.note))
    return counts, attention


def status_json(snapshot: ProjectSnapshot, proctypes: Sequence[str] = ()) -> dict[str, Any]:
    counts, attention = status_of(snapshot, proctypes)
    return {
        "project": snapshot.project,
        "counts": {p: dict(c) for p, c in sorted(counts.items())},
        "attention": [t.__dict__ for t in attention],
    }


def grouped(counts: Counter[str]) -> dict[str, int]:
    """One processor's counts by procstatus, as the narrow table's groups."""
    out = dict.fromkeys([*STATUS_GROUPS, _OTHER], 0)
    for status, n in counts.items():
        known = normalise_procstatus(status)
        group = next((g for g, members in STATUS_GROUPS.items() if known in members), _OTHER)
        out[group] += n
    return out


def print_status(
    console: Console, snapshot: ProjectSnapshot, proctypes: Sequence[str] = (), wide: bool = False
) -> None:
    counts, attention = status_of(snapshot, proctypes)
    console.print(_wide_counts(snapshot, counts) if wide else _counts(snapshot, counts))
    if attention:
        detail = Table(title="Needs attention", box=box.SIMPLE_HEAD, pad_edge=False)
        columns = ["processor", "session", *(["label"] if wide else []), "status", "reason"]
        for column in columns:
            detail.add_column(column, overflow="fold")
        for t in attention:
            reason = t.reason or "(no reason recorded)"
            cells = [t.proctype, t.session, *([t.label] if wide else []), t.procstatus, reason]
            detail.add_row(*(escape(c) for c in cells))
        console.print(detail)


def _counts(snapshot: ProjectSnapshot, counts: dict[str, Counter[str]]) -> Table:
    table = Table(title=f"Project {escape(snapshot.project)}", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("processor", overflow="fold")
    rows = {p: grouped(c) for p, c in sorted(counts.items())}
    columns = [*STATUS_GROUPS] + ([_OTHER] if any(r[_OTHER] for r in rows.values()) else [])
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    for proctype, row in rows.items():
        table.add_row(escape(proctype), *(str(row[c] or "") for c in columns))
    if not counts:
        table.add_row("(no assessors)")
    return table


def _wide_counts(snapshot: ProjectSnapshot, counts: dict[str, Counter[str]]) -> Table:
    """Every procstatus its own column (`status --wide`)."""
    present = {s for c in counts.values() for s in c}
    order = [s.value for s in ProcStatus]
    columns = [s for s in order if s in present] + sorted(present - set(order))
    table = Table(title=f"Project {escape(snapshot.project)}")
    table.add_column("processor")
    for status in columns:
        table.add_column(status, justify="right")
    for proctype, c in sorted(counts.items()):
        table.add_row(escape(proctype), *(str(c.get(s, 0) or "") for s in columns))
    if not counts:
        table.add_row("(no assessors)")
    return table


def job_counts(observations: Sequence[JobObservation]) -> dict[str, int]:
    """The followed jobs by what a person asks: queued, running, ended (to collect), gone."""
    counts = dict.fromkeys(("queued", "running", "ended", "gone", "unknown"), 0)
    for obs in observations:
        if obs.exit_code is not None or obs.scheduler_state == "completed":
            counts["ended"] += 1
        else:
            counts[obs.scheduler_state] += 1
    return counts


def print_jobs(console: Console, counts: dict[str, int]) -> None:
    """One line: the jobs aspider follows, as the cluster sees them now."""
    parts = [f"{n} {what}" for what, n in counts.items() if n or what in ("queued", "running")]
    ended = " (the next sweep collects the ended ones)" if counts["ended"] else ""
    console.print(f"Jobs on the cluster: {', '.join(parts)}{ended}", highlight=False)
