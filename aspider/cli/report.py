"""
What people and scripts read after a sweep: the summary of what was done, and the status of a
project's tasks (counts by processor and status, and every failing or blocked task's reason).

Pure functions from data to rows, plus thin rich renderers, so `--json` and the tables always
say the same thing. The tables fit 80 columns by showing what matters and folding the rest;
`--wide` shows every column and `--json` everything. The status is the model of
`aspider.serve.status`, the one `aspider report` and the service's page render, so `status`
counts what they count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aspider.plan import JobObservation, Staleness
from aspider.plan.states import IN_FLIGHT, ProcStatus, normalise_procstatus
from aspider.run import SUMMARY_COLUMNS, RunResult, SweepReport, run_ending, summary_rows
from aspider.serve.status import (
    JOB_STATES,
    NOT_CONFIGURED,
    ProjectStatus,
    TaskLine,
    job_state,
    project_status,
)
from xnat_client import ProjectSnapshot

_ALWAYS_SHOWN = ("created", "submitted", "completed", "failed")

# The status table in 80 columns: the eight statuses as five a person acts on, and the rest.
STATUS_GROUPS: dict[str, tuple[ProcStatus, ...]] = {
    "done": (ProcStatus.COMPLETE,),
    "running": tuple(sorted(IN_FLIGHT)),
    "to run": (ProcStatus.NEED_TO_RUN,),
    "no inputs": (ProcStatus.NEED_INPUTS,),
    "failed": (ProcStatus.JOB_FAILED,),
}
_OTHER = "other"


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


def build_status(
    snapshot: ProjectSnapshot,
    configured: Sequence[str] | None,
    *,
    only: Sequence[str] = (),
    observations: Sequence[JobObservation] | None = None,
    link_base: str = "",
    staleness: Staleness | None = None,
) -> ProjectStatus:
    """
    The project's status model (`aspider.serve.status`), the one `report` and the service
    render: every processor found in XNAT, those not in `configured` marked (None: no mark).
    """
    return project_status(
        snapshot,
        configured,
        link_base=link_base,
        today=date.today(),
        taken_at=datetime.now().astimezone().isoformat(timespec="seconds"),
        observations=None if observations is None else {o.label: o for o in observations},
        only=only,
        staleness=staleness,
    )


def status_of(
    snapshot: ProjectSnapshot, proctypes: Sequence[str] = ()
) -> tuple[dict[str, Counter[str]], list[TaskLine]]:
    """Counts by proctype and procstatus, and the tasks that need a person's attention."""
    status = build_status(snapshot, None, only=proctypes)
    return {p: Counter(c) for p, c in status.matrix.items()}, status.attention


def status_json(status: ProjectStatus) -> dict[str, Any]:
    """
    `status --json`: the model's counts (`report`'s and the service's `matrix`), which
    processors are not configured here, the tasks that need attention, and the followed jobs
    by state (null without a job poll).
    """
    return {
        "project": status.project,
        "counts": status.matrix,
        "configured": status.configured,
        "not_configured": status.not_configured,
        "scope": status.scope,
        "attention": [asdict(t) for t in status.attention],
        "jobs": status.job_counts,
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
    """The status of a snapshot's tasks (of `proctypes`, if named), no processor marked."""
    print_project_status(console, build_status(snapshot, None, only=proctypes), wide=wide)


def print_project_status(console: Console, status: ProjectStatus, wide: bool = False) -> None:
    """The counts, the tasks that need attention, and which processors are not ours here."""
    console.print(_wide_counts(status) if wide else _counts(status))
    if status.not_configured:
        names = ", ".join(status.not_configured)
        console.print(
            f"{_MARK} {NOT_CONFIGURED}: {escape(names)}: counted and listed, "
            "but aspider neither runs them nor follows their jobs",
            highlight=False,
            soft_wrap=False,  # folded to the terminal's width, as the tables are
        )
    if status.attention:
        detail = Table(title="Needs attention", box=box.SIMPLE_HEAD, pad_edge=False)
        columns = ["processor", "session", *(["label"] if wide else []), "status", "reason"]
        for column in columns:
            detail.add_column(column, overflow="fold")
        for t in status.attention:
            reason = t.reason or "(no reason recorded)"
            cells = [t.session, *([t.label] if wide else []), t.procstatus, reason]
            detail.add_row(_processor(t.proctype, t.configured), *(escape(c) for c in cells))
        console.print(detail)

    stale = sum(status.stale_counts.values())
    if stale:
        console.print(
            f"{stale} result(s) stale: `aspider status {status.project} --stale` lists them",
            highlight=False,
            soft_wrap=False,
        )


def print_stale(console: Console, status: ProjectStatus) -> None:
    """`status --stale`: each stale result in one line, then the counts by processor."""
    lines = status.stale or []
    for line in lines:
        console.print(
            f"{escape(line.label)}  {escape(line.reason)}", highlight=False, soft_wrap=True
        )
    checked = ", ".join(f"{p} {n}" for p, n in sorted(status.stale_counts.items()))
    console.print(f"{len(lines)} stale result(s) in {escape(status.project)}", highlight=False)
    if checked:
        console.print(f"stale by processor: {escape(checked)}", highlight=False)
    unknown = ", ".join(f"{p} {n}" for p, n in sorted(status.provenance_unknown.items()))
    if unknown:
        console.print(
            f"provenance unknown (made before aspider recorded it, or by DAX): {escape(unknown)}",
            highlight=False,
        )


def stale_json(status: ProjectStatus) -> dict[str, object]:
    """`status --stale --json`: the stale results and the counts, as the page's JSON has them."""
    data = status.to_json()
    keys = ("project", "taken_at", "stale", "stale_counts", "provenance_unknown")
    return {k: data[k] for k in keys}


_MARK = "*"  # after a processor not configured for the project


def _processor(proctype: str, configured: bool) -> str:
    return escape(proctype) + ("" if configured else f" {_MARK}")


def _counts(status: ProjectStatus) -> Table:
    table = Table(title=f"Project {escape(status.project)}", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("processor", overflow="fold")
    rows = {p: grouped(Counter(c)) for p, c in status.matrix.items()}
    columns = [*STATUS_GROUPS] + ([_OTHER] if any(r[_OTHER] for r in rows.values()) else [])
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    for proctype, row in rows.items():
        mine = proctype not in status.not_configured
        table.add_row(_processor(proctype, mine), *(str(row[c] or "") for c in columns))
    if not rows:
        table.add_row("(no assessors)")
    return table


def _wide_counts(status: ProjectStatus) -> Table:
    """Every procstatus its own column (`status --wide`)."""
    table = Table(title=f"Project {escape(status.project)}")
    table.add_column("processor")
    for name in status.statuses:
        table.add_column(name, justify="right")
    for proctype, c in status.matrix.items():
        mine = proctype not in status.not_configured
        cells = (str(c.get(s, 0) or "") for s in status.statuses)
        table.add_row(_processor(proctype, mine), *cells)
    if not status.matrix:
        table.add_row("(no assessors)")
    return table


def job_counts(observations: Sequence[JobObservation]) -> dict[str, int]:
    """The followed jobs by what a person asks: queued, running, ended (to collect), gone."""
    counts = dict.fromkeys(JOB_STATES, 0)
    for obs in observations:
        counts[job_state(obs)] += 1
    return counts


def print_jobs(console: Console, counts: dict[str, int]) -> None:
    """One line: the jobs aspider follows, as the cluster sees them now."""
    parts = [f"{n} {what}" for what, n in counts.items() if n or what in ("queued", "running")]
    ended = " (the next sweep collects the ended ones)" if counts["ended"] else ""
    console.print(f"Jobs on the cluster: {', '.join(parts)}{ended}", highlight=False)
