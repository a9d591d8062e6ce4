"""
The service's records for its operators: one per event received or refused, per sweep started
or ended, per piece of work deferred or resumed, each with its facts as fields.

Every record goes to the logger `aspider.serve` with `record` naming it and the facts as
fields of their own (`--log-format json` makes each a key of the line's object); the message
says the same in words, on one line:

    event_received   project, target (session, subject, project), name
    event_refused    reason (label, stopping, auth, project, body), status, detail; project,
                     target and name when they are XNAT labels (others are never logged)
    event_dropped    project, name, reason: XNAT has no such session or subject
    sweep_started    project, kind (full, sessions), sessions (labels; [] is the whole project)
    sweep_ended      project, kind, seconds, done; when done: the counts of `sweep_counts`;
                     when not: reason
    work_deferred    project, tasks, labels, reason, queued, max_queued
    work_resumed     project, sessions (labels), reason

A task waiting for its inputs is an `aspider.actions` record (`action`: `waiting`, with its
`reason`), written by the engine as every action is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aspider.plan import Plan, PlanLimits
from aspider.processors import Processor
from aspider.run import SUMMARY_COLUMNS, SweepReport
from aspider.serve.labels import is_xnat_label

log = logging.getLogger("aspider.serve")


def _emit(
    level: int, record: str, message: str, fields: dict[str, Any], *, exc_info: bool = False
) -> None:
    extra = {"fields": {"record": record, **fields}}
    log.log(level, "%s", message, extra=extra, exc_info=exc_info)


def event_received(project: str, target: str, name: str) -> None:
    what = f"project {project}" if target == "project" else f"{target} {name} of {project}"
    fields = {"project": project, "target": target, "name": name}
    _emit(logging.INFO, "event_received", f"event received: {what}", fields)


def event_refused(
    project: str, target: str, name: str, reason: str, status: int, detail: str
) -> None:
    """A refused POST; names that are not XNAT labels are left out (they may hold anything)."""
    fields: dict[str, Any] = {"reason": reason, "status": status, "detail": detail}
    where = ""
    if is_xnat_label(project) and is_xnat_label(name):
        fields.update(project=project, target=target, name=name)
        where = f" ({target} {name} of {project})" if target != "project" else f" ({project})"
    message = f"event refused{where}: {status} {reason}: {detail}"
    _emit(logging.WARNING, "event_refused", message, fields)


def event_dropped(project: str, name: str) -> None:
    reason = "XNAT has no such session or subject in the project"
    fields = {"project": project, "name": name, "reason": reason}
    _emit(logging.WARNING, "event_dropped", f"event dropped: {name} of {project}: {reason}", fields)


def sweep_started(project: str, kind: str, sessions: Sequence[str]) -> None:
    which = ", ".join(sessions) if sessions else "the whole project"
    fields = {"project": project, "kind": kind, "sessions": list(sessions)}
    _emit(logging.INFO, "sweep_started", f"{kind} sweep of {project} started: {which}", fields)


def sweep_counts(report: SweepReport) -> dict[str, int]:
    """
    What a sweep did: tasks by what the engine did to them (the run summary's columns, always
    present), tasks held back for a later sweep or deferred for room in the queue, sessions
    planned and sessions it could not finish, and the XNAT requests it sent.
    """
    counts = dict.fromkeys(SUMMARY_COLUMNS, 0)
    for (_, what), n in report.outcome.counts.items():
        key = what.replace(" ", "_")
        counts[key] = counts.get(key, 0) + n
    counts["held_back"] = len(report.outcome.transient)
    counts["deferred"] = len(report.plan.deferred)
    counts["sessions_planned"] = len(report.plan.sessions)
    counts["session_errors"] = len(report.session_errors)
    counts["requests"] = report.requests
    return counts


def sweep_ended(project: str, kind: str, seconds: float, report: SweepReport) -> None:
    counts = sweep_counts(report)
    shown = {what: n for what, n in counts.items() if n or what in SUMMARY_COLUMNS}
    said = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in shown.items())
    fields = {"project": project, "kind": kind, "seconds": round(seconds, 3), "done": True}
    level = logging.WARNING if report.failed else logging.INFO
    message = f"{kind} sweep of {project} ended in {seconds:.1f} s: {said}"
    _emit(level, "sweep_ended", message, {**fields, **counts})


def sweep_not_done(
    project: str, kind: str, seconds: float, reason: str, level: int, *, bug: bool = False
) -> None:
    """A sweep that raised: tried again later. A bug (`bug`) carries its traceback."""
    fields = {
        "project": project,
        "kind": kind,
        "seconds": round(seconds, 3),
        "done": False,
        "reason": reason,
    }
    said = " ".join(reason.split())  # one line, whatever the error said
    message = f"{kind} sweep of {project} not done after {seconds:.1f} s: {said}"
    _emit(level, "sweep_ended", message, fields, exc_info=bug)


def work_deferred(
    project: str, plan: Plan, limits: PlanLimits, processors: Sequence[Processor]
) -> None:
    """The tasks a plan deferred for room in the queue, and which limit held them back."""
    queued = plan.queued_after()[0] + limits.elsewhere
    reason = deferral_reason(plan, limits, processors)
    fields = {
        "project": project,
        "tasks": len(plan.deferred),
        "labels": list(plan.deferred),
        "reason": reason,
        "queued": queued,
        "max_queued": limits.max_queued,
    }
    message = f"work deferred in {project}: {len(plan.deferred)} task(s): {reason}"
    _emit(logging.INFO, "work_deferred", message, fields)


def deferral_reason(plan: Plan, limits: PlanLimits, processors: Sequence[Processor]) -> str:
    """Which limit was reached: the whole queue's, or some processors' own."""
    total, per = plan.queued_after()
    queued = total + limits.elsewhere
    if limits.max_queued is not None and queued >= limits.max_queued:
        return (
            f"the queue is full: {queued} job(s) queued or running (max_queued {limits.max_queued})"
        )
    elsewhere = dict(limits.elsewhere_per_processor)
    full = []
    for p in processors:
        cap = p.max_queued if p.max_queued is not None else limits.max_queued_per_processor
        if cap is not None and per.get(p.proctype, 0) + elsewhere.get(p.proctype, 0) >= cap:
            full.append(f"{p.proctype} (max_queued {cap})")
    return "a processor's queue is full: " + ", ".join(full)


def work_resumed(project: str, sessions: Sequence[str], reason: str) -> None:
    fields = {"project": project, "sessions": sorted(sessions), "reason": reason}
    message = f"work resumed in {project}: {len(sessions)} session(s) with deferred work: {reason}"
    _emit(logging.INFO, "work_resumed", message, fields)


def room_reason(in_queue: int, limit: int | None) -> str:
    """Why deferred work may go now: the queue's room as the job poll saw it."""
    if limit is None:
        return "no queue limit"
    return f"room in the queue: {in_queue} job(s) queued or running (max_queued {limit})"
