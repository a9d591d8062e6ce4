"""
The tasks' status transitions, and the queue over time, as the status views show them.

Transitions come first from XNAT's workflow history: every step the executor records is a
workflow entry about its assessor, the procstatus the step left as its step id, so a task's
entries, in the order written, are its transitions with the status before each one
(`steps_of`). XNAT lists them one assessor at a time (no listing of a project's entries has
the steps), so a view reads them for the few tasks changed last (`read_steps`: at most
`STEPS_READ` requests), and the service again only for a task whose `last_modified` moved
(`History.read_steps`). They show what happened before the service started.

The service also compares each new snapshot of a project with the one before: every assessor
whose `procstatus` differs is a transition (`transitions`), which catches what no entry
recorded (a status a person set in XNAT, an account that may not write entries). The queue is
sampled on every job poll. All is bounded in memory; the comparisons and the samples start
empty at each start of the service.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio

from aspider.processors import is_trial
from aspider.run import read_history
from xnat_client import Assessor, Forbidden, ProjectSnapshot, Workflow, XnatClient, XnatError

log = logging.getLogger("aspider.serve")

STEPS_READ = 10  # assessors whose workflow history one view reads (one request each)
_AT_ONCE = 4  # of those, read at the same time (XNAT is shared)
_KEPT = 200  # assessors whose steps the service keeps
_OLDEST = datetime(1, 1, 2, tzinfo=UTC)
# The statuses a task is created in: to run, waiting for inputs, or submitted at once.
_CREATED_AS = ("NEED_TO_RUN", "NEED_INPUTS", "JOB_RUNNING")


@dataclass(frozen=True)
class Transition:
    at: str  # ISO time: the step's, the snapshot's that saw it, or the assessor's last_modified
    label: str
    proctype: str
    session: str
    before: str | None  # "" for an assessor that was not there (created); None: not known
    after: str
    step: str = ""  # what happened, as XNAT's workflow entry says it ("" when not from one)


@dataclass(frozen=True)
class QueueSample:
    at: float  # epoch seconds
    queued: int
    running: int


@dataclass(frozen=True)
class Steps:
    """One assessor's transitions from its workflow entries, as of its `last_modified`."""

    last_modified: str
    transitions: tuple[Transition, ...]


def assessors(snapshot: ProjectSnapshot) -> Iterator[tuple[str, Assessor]]:
    """
    (session or subject label, assessor) for every assessor of the snapshot but trials'
    (`aspider trial`, kept for review): a trial is no task of the project's, and no view
    counts, lists or follows it.
    """
    return ((where, a) for where, a in snapshot.every_assessor() if not is_trial(a.proctype))


def transitions(
    before: ProjectSnapshot | None, after: ProjectSnapshot, at: str
) -> list[Transition]:
    """The status changes from one snapshot to the next (none against no earlier snapshot)."""
    if before is None:
        return []
    was = {a.label: a.procstatus for _, a in assessors(before)}
    return [
        Transition(at, a.label, a.proctype, session, was.get(a.label, ""), a.procstatus)
        for session, a in assessors(after)
        if was.get(a.label) != a.procstatus
    ]


def steps_of(entries: Iterable[Workflow], assessor: Assessor, session: str) -> list[Transition]:
    """
    An assessor's transitions from its workflow entries (in the order written), each with the
    status before it. An entry that leaves the status as it was (a job found, a job running) is
    no transition. The first entry is the creation (before: "") when it leaves a status a task
    is created in (a task created and submitted at once has its submission first); any other
    first entry (entries written only from some time on) has no known status before it.
    """
    found: list[Transition] = []
    before: str | None = None
    for n, w in enumerate(entries):
        after = w.step_id
        if not after or after == before:
            continue
        if n == 0 and after in _CREATED_AS:
            before = ""
        at = _iso(w.step_launch_time or w.launch_time)
        step = w.step_description
        found.append(
            Transition(at, assessor.label, assessor.proctype, session, before, after, step)
        )
        before = after
    return found


def latest_changed(snapshot: ProjectSnapshot, limit: int) -> list[tuple[str, Assessor]]:
    """The `limit` assessors modified last, newest first."""
    changed = [(s, a) for s, a in assessors(snapshot) if a.last_modified]
    changed.sort(key=lambda sa: moment(sa[1].last_modified), reverse=True)
    return changed[:limit]


async def read_steps(
    xnat: XnatClient,
    snapshot: ProjectSnapshot,
    *,
    limit: int = STEPS_READ,
    known: Mapping[str, Steps] | None = None,
) -> dict[str, Steps]:
    """
    The transitions of the `limit` assessors modified last, from their workflow entries: one
    request each (a few at a time), none for an assessor `known` as of its `last_modified`.
    An assessor without entries has no steps; a read XNAT refuses stops the reading (logged).
    """
    found, refused = await _read_steps(xnat, snapshot, limit, known or {})
    if refused is not None:
        _say_refused(snapshot.project, refused)
    return found


async def _read_steps(
    xnat: XnatClient, snapshot: ProjectSnapshot, limit: int, known: Mapping[str, Steps]
) -> tuple[dict[str, Steps], Forbidden | None]:
    wanted = [
        (s, a)
        for s, a in latest_changed(snapshot, limit)
        if a.label not in known or known[a.label].last_modified != a.last_modified
    ]
    found = dict(known)
    limiter = anyio.CapacityLimiter(_AT_ONCE)
    refused: list[Forbidden] = []

    async def one(session: str, a: Assessor) -> None:
        async with limiter:
            if refused:
                return
            try:
                entries = await read_history(xnat, snapshot.project, a.label, a.proctype)
            except Forbidden as exc:
                refused.append(exc)
                return
            except XnatError as exc:
                log.warning("%s: its status history was not read: %s", a.label, exc)
                return
        found[a.label] = Steps(a.last_modified, tuple(steps_of(entries, a, session)))

    async with anyio.create_task_group() as tg:
        for session, a in wanted:
            tg.start_soon(one, session, a)
    return found, refused[0] if refused else None


def _say_refused(project: str, refused: Forbidden) -> None:
    log.warning(
        "project %s: XNAT does not let this account read workflow entries (%s): the status "
        "views show the tasks' last changes, without their steps",
        project,
        refused.excerpt or refused.message,
    )


def merged(
    steps: Mapping[str, Steps], seen: Sequence[Transition], limit: int = 30
) -> list[Transition]:
    """
    The last `limit` transitions, newest first: XNAT's steps, and the service's comparisons of
    the assessors XNAT gave no steps for (for the others XNAT's record is the whole story).
    """
    from_xnat = [t for s in steps.values() for t in s.transitions]
    told = {t.label for t in from_xnat}
    every = [*from_xnat, *(t for t in seen if t.label not in told)]
    order = sorted(range(len(every)), key=lambda n: (moment(every[n].at), n), reverse=True)
    return [every[n] for n in order[:limit]]


def moment(text: str) -> datetime:
    """An ISO time (XNAT's, without a zone, is local time) for ordering; unreadable: oldest."""
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return _OLDEST
    return found if found.tzinfo is not None else found.astimezone()


def _iso(when: datetime) -> str:
    """A step's time as the page writes every time: ISO, to the second, with the offset."""
    local = when if when.tzinfo is not None else when.astimezone()
    return local.isoformat(timespec="seconds")


class History:
    """The last transitions and queue samples of one project, and its tasks' steps in XNAT."""

    def __init__(self, transitions: int = 200, samples: int = 2000) -> None:
        self.transitions: deque[Transition] = deque(maxlen=transitions)
        self.queue: deque[QueueSample] = deque(maxlen=samples)
        self.steps: dict[str, Steps] = {}  # by assessor label
        self.refused = False  # XNAT refused this account a read of workflow entries

    def record(self, found: list[Transition]) -> None:
        self.transitions.extend(found)

    async def read_steps(self, xnat: XnatClient, snapshot: ProjectSnapshot) -> None:
        """
        The steps of the tasks changed last, read again only for those that changed; none
        once XNAT refused this account a read (one warning: its requests are not spent again).
        """
        if self.refused:
            return
        steps, refused = await _read_steps(xnat, snapshot, STEPS_READ, self.steps)
        if refused is not None:
            self.refused = True
            _say_refused(snapshot.project, refused)
        there = {a.label for _, a in assessors(snapshot)}
        kept = [(label, s) for label, s in steps.items() if label in there]
        newest = sorted(kept, key=lambda kv: moment(kv[1].last_modified), reverse=True)
        self.steps = dict(newest[:_KEPT])
