"""
A project's status as the page and `/api/v1/status` show it, built from data (no I/O).

Per project: a processor x status matrix of counts; the failing (JOB_FAILED) and blocked
(NEED_INPUTS) tasks with their reasons and a link to the assessor in XNAT's web pages; the jobs
in the queue and running (from the last job poll, when the service made one); the last status
transitions; tasks completed per day (COMPLETE assessors by their `last_modified` day); and the
queue over time (the service's samples). `aspider report` builds the same from a snapshot alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from aspider.plan import IN_FLIGHT, JobObservation, ProcStatus, normalise_procstatus
from aspider.serve.history import History, QueueSample, Transition, assessors
from xnat_client import Assessor, ProjectSnapshot

_ORDER = [s.value for s in ProcStatus]
_ATTENTION = (ProcStatus.JOB_FAILED, ProcStatus.NEED_INPUTS)


@dataclass(frozen=True)
class TaskLine:
    proctype: str
    session: str
    label: str
    procstatus: str
    reason: str
    link: str


@dataclass(frozen=True)
class JobLine:
    proctype: str
    session: str
    label: str
    job_id: str
    state: str  # queued, running, ended, gone, unknown; "not polled" without a poll


@dataclass(frozen=True)
class DayCount:
    day: str
    count: int


@dataclass
class ProjectStatus:
    project: str
    taken_at: str
    statuses: list[str]
    matrix: dict[str, dict[str, int]]  # proctype -> status -> count
    attention: list[TaskLine]
    jobs: list[JobLine]
    polled: bool  # the jobs' states come from a scheduler poll
    transitions: list[Transition]
    completed_per_day: list[DayCount]
    queue: list[QueueSample] = field(default_factory=list)
    pending: int = 0  # sessions waiting to settle (the service only)
    last_sweep: str = ""  # the service's last sweep of the project, in words

    @property
    def queued(self) -> int:
        return sum(1 for j in self.jobs if j.state == "queued")

    @property
    def running(self) -> int:
        return sum(1 for j in self.jobs if j.state == "running")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["jobs_queued"], data["jobs_running"] = self.queued, self.running
        return data


def assessor_link(base: str, assessor: Assessor) -> str:
    """The assessor's page in XNAT's web interface."""
    return f"{base.rstrip('/')}/data/experiments/{quote(assessor.id, safe='')}?format=html"


def project_status(
    snapshot: ProjectSnapshot,
    proctypes: Sequence[str],
    *,
    link_base: str,
    today: date,
    taken_at: str,
    observations: Mapping[str, JobObservation] | None = None,
    history: History | None = None,
    days: int = 14,
) -> ProjectStatus:
    """The status of the snapshot's tasks of `proctypes` (all tasks when empty)."""
    ours = [
        (session, a)
        for session, a in assessors(snapshot)
        if not proctypes or a.proctype in proctypes
    ]
    return ProjectStatus(
        project=snapshot.project,
        taken_at=taken_at,
        statuses=_statuses(a for _, a in ours),
        matrix=_matrix(a for _, a in ours),
        attention=_attention(ours, link_base),
        jobs=_jobs(ours, observations),
        polled=observations is not None,
        transitions=_transitions(ours, history),
        completed_per_day=_per_day(ours, today, days),
        queue=list(history.queue) if history is not None else [],
    )


def _statuses(found: Any) -> list[str]:
    present = {a.procstatus or "(none)" for a in found}
    return [s for s in _ORDER if s in present] + sorted(present - set(_ORDER))


def _matrix(found: Any) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {}
    for a in found:
        counts.setdefault(a.proctype, Counter())[a.procstatus or "(none)"] += 1
    return {p: dict(c) for p, c in sorted(counts.items())}


def _attention(ours: list[tuple[str, Assessor]], link_base: str) -> list[TaskLine]:
    lines = [
        TaskLine(a.proctype, s, a.label, a.procstatus, a.note, assessor_link(link_base, a))
        for s, a in ours
        if normalise_procstatus(a.procstatus) in _ATTENTION
    ]
    return sorted(lines, key=lambda t: (t.procstatus != "JOB_FAILED", t.proctype, t.label))


def _jobs(
    ours: list[tuple[str, Assessor]], observations: Mapping[str, JobObservation] | None
) -> list[JobLine]:
    lines = []
    for s, a in ours:
        if normalise_procstatus(a.procstatus) not in IN_FLIGHT:
            continue
        seen = observations.get(a.label) if observations is not None else None
        state = "not polled" if observations is None else "unknown"
        if seen is not None:
            state = "ended" if seen.exit_code is not None else seen.scheduler_state
        lines.append(JobLine(a.proctype, s, a.label, a.jobid, state))
    return sorted(lines, key=lambda j: (j.state, j.label))


def _transitions(ours: list[tuple[str, Assessor]], history: History | None) -> list[Transition]:
    """The service's recorded transitions; without them, the latest modified tasks."""
    if history is not None and history.transitions:
        return list(reversed(history.transitions))[:30]
    latest = sorted(ours, key=lambda sa: sa[1].last_modified, reverse=True)[:30]
    return [
        Transition(a.last_modified, a.label, a.proctype, s, "", a.procstatus)
        for s, a in latest
        if a.last_modified
    ]


def _per_day(ours: list[tuple[str, Assessor]], today: date, days: int) -> list[DayCount]:
    done = Counter(
        a.last_modified[:10]
        for _, a in ours
        if normalise_procstatus(a.procstatus) is ProcStatus.COMPLETE
    )
    span = [(today - timedelta(days=n)).isoformat() for n in reversed(range(days))]
    return [DayCount(day, done.get(day, 0)) for day in span]
