"""
Which sessions of one project are due for a sweep: events and `last_modified` changes, settled.

A POST is a hint and the listing is the truth. A hint names a session (by label or ID) or a
subject; the next look at the project's `last_modified` listing (`XnatClient.session_changes`,
one request) resolves it to sessions, or drops it when XNAT has no such session. A change the
poll finds, and a hint, both make a session *pending*; a pending session becomes *due* once a
look taken at least `settle` seconds after its last change still shows the same
`last_modified`. Events for one session within that time coalesce into one sweep, and a session
still receiving scans (its `last_modified` moving) waits until it is quiet.

Pure: the caller passes the clock's reading to every method, so the tests drive time by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xnat_client import SessionChange


@dataclass
class Pending:
    """A session waiting to settle."""

    session_id: str
    label: str
    subject_id: str
    cause: str  # "event" (a POST) or "change" (the poll saw last_modified move)
    first_seen: float  # when the event arrived or the change was seen: latency is from here
    since: float  # when it last changed (or the hint arrived)
    last_modified: str | None = None  # as last seen; None until a look after the hint
    checked: float = float("-inf")  # the last look that found `last_modified` unchanged

    def settled(self, settle: float) -> bool:
        return self.last_modified is not None and self.checked >= self.since + settle


@dataclass(frozen=True)
class Hint:
    name: str  # a session or subject label or ID, as posted
    subject: bool
    at: float


class ChangeWatch:
    """The pending sessions of one project, and the `last_modified` seen at the last look."""

    def __init__(self, settle: float) -> None:
        self.settle = settle
        self.known: dict[str, SessionChange] = {}  # by session ID, as of the last look
        self.pending: dict[str, Pending] = {}  # by session ID
        self.hints: list[Hint] = []
        self.looked = False  # the first look only records what is there

    def hint(self, name: str, now: float, *, subject: bool = False) -> None:
        """An event named a session (or a subject): it is resolved at the next look."""
        self.hints.append(Hint(name, subject, now))

    def needs_look(self, now: float) -> bool:
        """A look now would resolve hints or let a pending session settle."""
        return bool(self.hints) or any(
            not p.settled(self.settle) and now >= p.since + self.settle
            for p in self.pending.values()
        )

    def next_wake(self) -> float | None:
        """When a look next has something to decide (None: nothing pending)."""
        times = [p.since + self.settle for p in self.pending.values() if not p.settled(self.settle)]
        return min(times) if times else None

    def observe(self, rows: Iterable[SessionChange], now: float) -> list[str]:
        """
        Take a look's answer: new or changed sessions become pending, hints are resolved.

        Returns:
            The hints that named no session XNAT has (dropped).
        """
        current = {r.id: r for r in rows}
        if self.looked:
            for sid, row in current.items():
                before = self.known.get(sid)
                if before is None or before.last_modified != row.last_modified:
                    self._changed(row, now, "change")
        self.looked = True
        self.known = current
        for sid in [sid for sid in self.pending if sid not in current]:
            del self.pending[sid]  # deleted from XNAT meanwhile
        for p in self.pending.values():
            row = current[p.session_id]
            if p.last_modified is None:
                p.last_modified = row.last_modified
            elif p.last_modified != row.last_modified:
                p.last_modified, p.since = row.last_modified, now
            else:
                p.checked = now
        return self._resolve_hints(current, now)

    def take_due(self) -> list[Pending]:
        """The settled sessions, removed from the pending set (the caller sweeps them)."""
        due = [p for p in self.pending.values() if p.settled(self.settle)]
        for p in due:
            del self.pending[p.session_id]
        return due

    def subject_sessions(self, subject_ids: set[str]) -> list[str]:
        """Labels of every known session of these subjects (subject-level processors)."""
        return sorted(r.label for r in self.known.values() if r.subject_id in subject_ids)

    def _changed(self, row: SessionChange, now: float, cause: str) -> None:
        if row.id not in self.pending:  # a pending one's own check restarts its wait
            self.pending[row.id] = Pending(
                row.id, row.label, row.subject_id, cause, now, now, row.last_modified
            )

    def _resolve_hints(self, current: dict[str, SessionChange], now: float) -> list[str]:
        dropped: list[str] = []
        for h in self.hints:
            if h.subject:
                matched = [r for r in current.values() if h.name in (r.subject_id, r.subject_label)]
            else:
                matched = [r for r in current.values() if h.name in (r.id, r.label)]
            if not matched:
                dropped.append(h.name)
            for row in matched:
                if row.id not in self.pending:
                    self.pending[row.id] = Pending(
                        row.id, row.label, row.subject_id, "event", h.at, h.at, None
                    )
                found = self.pending[row.id]
                if found.last_modified is None:
                    found.last_modified = row.last_modified
                if h.at < found.first_seen:  # the event came first: latency counts from it
                    found.first_seen, found.cause = h.at, "event"
        self.hints.clear()
        return dropped
