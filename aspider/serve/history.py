"""
What the status page remembers between snapshots: status transitions and the queue over time.

XNAT holds each assessor's status now, not its history, so the service compares each new
snapshot of a project with the one before: every assessor whose `procstatus` differs is a
transition. The queue is sampled on every job poll. Both are bounded in memory (the page shows
the latest), and start empty at each start of the service.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from xnat_client import Assessor, ProjectSnapshot


@dataclass(frozen=True)
class Transition:
    at: str  # ISO time of the snapshot that saw it (or the assessor's last_modified)
    label: str
    proctype: str
    session: str
    before: str  # "" for an assessor that was not there
    after: str


@dataclass(frozen=True)
class QueueSample:
    at: float  # epoch seconds
    queued: int
    running: int


def assessors(snapshot: ProjectSnapshot) -> Iterator[tuple[str, Assessor]]:
    """(session or subject label, assessor) for every assessor of the snapshot."""
    yield from snapshot.every_assessor()


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


class History:
    """The last transitions and queue samples of one project."""

    def __init__(self, transitions: int = 200, samples: int = 2000) -> None:
        self.transitions: deque[Transition] = deque(maxlen=transitions)
        self.queue: deque[QueueSample] = deque(maxlen=samples)

    def record(self, found: list[Transition]) -> None:
        self.transitions.extend(found)
