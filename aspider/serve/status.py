"""
The status of a project's tasks: one model, built from data (no I/O), behind every view.

`aspider status` (its tables and `--json`), `aspider report` (JSON, and the page with
`--html`), and the service's page and `/api/v1/status` all render `project_status` over one
snapshot, so their counts agree. Per project: a processor x status matrix of counts; the tasks
that need a person (failed, waiting for inputs, an upload cut short) with their reasons and a
link to the assessor in XNAT's web pages; the jobs in the queue and running (from a job poll,
when there was one); the last status transitions (from XNAT's workflow history, see
`aspider.serve.history`); tasks completed per day (COMPLETE assessors by their `last_modified`
day); and the queue over time (the service's samples).

Every processor found in XNAT is shown. One that is not configured for the project is marked
"not configured here" (`not_configured`, and `configured: false` on its lines): its tasks are
counted and listed, a failed one too, but aspider neither runs them nor follows their jobs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from aspider.plan import (
    IN_FLIGHT,
    NEEDS_ATTENTION,
    JobObservation,
    ProcessorUsage,
    ProcStatus,
    Staleness,
    normalise_procstatus,
    note_text,
)
from aspider.serve.history import History, QueueSample, Steps, Transition, assessors, merged, moment
from xnat_client import Assessor, ProjectSnapshot

NOT_CONFIGURED = "not configured here"
NOT_FOLLOWED = "not followed here"  # the job state of a task of a processor not configured
JOB_STATES = ("queued", "running", "ended", "gone", "unknown")
SCOPE = (
    "Every processor found in XNAT is shown; one not configured for this project is marked "
    f"'{NOT_CONFIGURED}': its tasks are counted and listed, but aspider neither runs them nor "
    "follows their jobs."
)
NO_SCOPE = "No processor is configured: every processor found in XNAT is shown."

# Where the transitions come from, as the views say it.
FROM_XNAT = "XNAT's workflow history"
FROM_BOTH = "XNAT's workflow history and this service's snapshots"
FROM_SERVICE = "this service's snapshots"
FROM_LAST_CHANGE = (
    "each task's last change (no workflow history read from XNAT): the status before is unknown"
)

_ORDER = [s.value for s in ProcStatus]
# What a person acts on, in this order: failed, blocked on its inputs, an upload cut short.


@dataclass(frozen=True)
class TaskLine:
    proctype: str
    session: str
    label: str
    procstatus: str
    qcstatus: str
    reason: str
    link: str
    configured: bool  # False: a processor found in XNAT, not configured for the project


@dataclass(frozen=True)
class JobLine:
    proctype: str
    session: str
    label: str
    job_id: str
    state: str  # JOB_STATES; "not polled" without a poll; NOT_FOLLOWED if not configured
    configured: bool


@dataclass(frozen=True)
class StaleLine:
    """A COMPLETE result made from what has changed since (`aspider.plan.staleness`)."""

    proctype: str
    session: str
    label: str
    kinds: list[str]  # inputs, upstream, processor, gone
    reason: str  # every reason, in one line
    link: str


@dataclass(frozen=True)
class DayCount:
    day: str
    count: int


@dataclass
class ProjectStatus:
    project: str
    taken_at: str
    statuses: list[str]
    matrix: dict[str, dict[str, int]]  # proctype -> status -> count, every proctype in XNAT
    attention: list[TaskLine]
    jobs: list[JobLine]
    polled: bool  # the jobs' states come from a scheduler poll
    transitions: list[Transition]
    completed_per_day: list[DayCount]
    queue: list[QueueSample] = field(default_factory=list)
    pending: int = 0  # sessions waiting to settle (the service only)
    last_sweep: str = ""  # the service's last sweep of the project, in words
    configured: list[str] | None = None  # the project's processors; None: none configured
    not_configured: list[str] = field(default_factory=list)  # proctypes of the matrix, not ours
    scope: str = NO_SCOPE  # which processors are shown, in words
    job_counts: dict[str, int] | None = None  # configured jobs by JOB_STATES; None: not polled
    transitions_from: str = FROM_LAST_CHANGE
    # What each configured processor's jobs used against what they asked (`aspider tune`)
    usage: list[ProcessorUsage] = field(default_factory=list)
    # Stale results (None: not looked for: no processors to compare with), and by processor
    # the results checked and those with no record of what made them ("provenance unknown")
    stale: list[StaleLine] | None = None
    stale_counts: dict[str, int] = field(default_factory=dict)
    provenance_unknown: dict[str, int] = field(default_factory=dict)

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


def job_state(seen: JobObservation | None) -> str:
    """A followed job as a person asks about it: queued, running, ended (to collect), gone."""
    if seen is None:
        return "unknown"
    if seen.exit_code is not None or seen.scheduler_state == "completed":
        return "ended"
    return seen.scheduler_state


def project_status(
    snapshot: ProjectSnapshot,
    proctypes: Sequence[str] | None,
    *,
    link_base: str,
    today: date,
    taken_at: str,
    observations: Mapping[str, JobObservation] | None = None,
    history: History | None = None,
    steps: Mapping[str, Steps] | None = None,
    only: Sequence[str] = (),
    days: int = 14,
    usage: Sequence[ProcessorUsage] = (),
    staleness: Staleness | None = None,
) -> ProjectStatus:
    """
    The status of every task of the snapshot (of the proctypes `only` names, when it names
    some), each marked by whether its processor is one of `proctypes`, the processors
    configured for the project (None: none is configured at all, and nothing is marked).

    `observations` are the job poll's (label -> observation; None: no poll). The transitions
    are XNAT's steps (`steps`, else those `history` read) with the service's comparisons
    (`history`); with neither, each task's last change. `staleness` is what
    `aspider.plan.find_stale` found in the snapshot (None: not looked for).
    """
    ours = [(s, a) for s, a in assessors(snapshot) if not only or a.proctype in only]
    configured = None if proctypes is None else set(proctypes)
    mine = _is_configured(configured)
    matrix = _matrix(a for _, a in ours)
    jobs = _jobs(ours, observations, mine)
    transitions, told = _transitions(ours, history, steps)
    return ProjectStatus(
        project=snapshot.project,
        taken_at=taken_at,
        statuses=_statuses(a for _, a in ours),
        matrix=matrix,
        attention=_attention(ours, link_base, mine),
        jobs=jobs,
        polled=observations is not None,
        transitions=transitions,
        completed_per_day=_per_day(ours, today, days),
        queue=list(history.queue) if history is not None else [],
        configured=None if configured is None else sorted(configured),
        not_configured=[p for p in matrix if not mine(p)],
        scope=NO_SCOPE if configured is None else SCOPE,
        job_counts=None if observations is None else _job_counts(jobs),
        transitions_from=told,
        usage=[u for u in usage if u.jobs and (not only or u.proctype in only)],
        **_stale(staleness, link_base, only),
    )


def _stale(staleness: Staleness | None, link_base: str, only: Sequence[str]) -> dict[str, Any]:
    if staleness is None:
        return {}
    lines = [
        StaleLine(
            r.proctype,
            r.session,
            r.label,
            sorted(r.kinds),
            r.text(),
            assessor_link(link_base, r.assessor),
        )
        for r in staleness.stale
        if not only or r.proctype in only
    ]
    counts = Counter(line.proctype for line in lines)
    return {
        "stale": lines,
        "stale_counts": {p: counts.get(p, 0) for p, _ in staleness.checked if not only or p in only}
        | dict(counts),
        "provenance_unknown": {p: n for p, n in staleness.unknown if not only or p in only},
    }


def _is_configured(configured: set[str] | None) -> Callable[[str], bool]:
    return lambda proctype: configured is None or proctype in configured


def _statuses(found: Any) -> list[str]:
    present = {a.procstatus or "(none)" for a in found}
    return [s for s in _ORDER if s in present] + sorted(present - set(_ORDER))


def _matrix(found: Any) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {}
    for a in found:
        counts.setdefault(a.proctype, Counter())[a.procstatus or "(none)"] += 1
    return {p: dict(c) for p, c in sorted(counts.items())}


def _attention(
    ours: list[tuple[str, Assessor]], link_base: str, mine: Callable[[str], bool]
) -> list[TaskLine]:
    lines = [
        TaskLine(
            a.proctype,
            s,
            a.label,
            a.procstatus,
            a.qcstatus,
            note_text(a.note),  # the reason; what each job asked and used is `tune`'s
            assessor_link(link_base, a),
            mine(a.proctype),
        )
        for s, a in ours
        if normalise_procstatus(a.procstatus) in NEEDS_ATTENTION
    ]
    rank = {status.value: n for n, status in enumerate(NEEDS_ATTENTION)}
    return sorted(lines, key=lambda t: (rank.get(t.procstatus, 0), t.proctype, t.label))


def _jobs(
    ours: list[tuple[str, Assessor]],
    observations: Mapping[str, JobObservation] | None,
    mine: Callable[[str], bool],
) -> list[JobLine]:
    lines = []
    for s, a in ours:
        if normalise_procstatus(a.procstatus) not in IN_FLIGHT:
            continue
        if not mine(a.proctype):
            state = NOT_FOLLOWED
        elif observations is None:
            state = "not polled"
        else:
            state = job_state(observations.get(a.label))
        lines.append(JobLine(a.proctype, s, a.label, a.jobid, state, mine(a.proctype)))
    return sorted(lines, key=lambda j: (j.state, j.label))


def _job_counts(jobs: Sequence[JobLine]) -> dict[str, int]:
    counts = dict.fromkeys(JOB_STATES, 0)
    for j in jobs:
        if j.configured:
            counts[j.state] += 1
    return counts


def _transitions(
    ours: list[tuple[str, Assessor]],
    history: History | None,
    steps: Mapping[str, Steps] | None,
) -> tuple[list[Transition], str]:
    """The last transitions, newest first, and where they come from."""
    shown = {a.label for _, a in ours}
    if steps is None and history is not None:
        steps = history.steps
    from_xnat = {label: s for label, s in (steps or {}).items() if label in shown}
    seen = [t for t in history.transitions if t.label in shown] if history is not None else []
    found = merged(from_xnat, seen)
    if found:
        told = any(t.step for t in found)
        compared = any(not t.step for t in found)
        source = FROM_BOTH if told and compared else (FROM_XNAT if told else FROM_SERVICE)
        return found, source
    latest = sorted(ours, key=lambda sa: moment(sa[1].last_modified), reverse=True)[:30]
    last = [
        Transition(a.last_modified, a.label, a.proctype, s, None, a.procstatus)
        for s, a in latest
        if a.last_modified
    ]
    return last, FROM_LAST_CHANGE


def _per_day(ours: list[tuple[str, Assessor]], today: date, days: int) -> list[DayCount]:
    done = Counter(
        a.last_modified[:10]
        for _, a in ours
        if normalise_procstatus(a.procstatus) is ProcStatus.COMPLETE
    )
    span = [(today - timedelta(days=n)).isoformat() for n in reversed(range(days))]
    return [DayCount(day, done.get(day, 0)) for day in span]
