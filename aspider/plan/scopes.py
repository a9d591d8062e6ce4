"""
Scopes (pure): the data one task may draw on.

A scope is one session (scan- and session-level processors), or a subject's or a project's
sessions; its assessor lives on the anchor session, which for subject- and project-level
processors is the scope's first session.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aspider.plan.artefacts import ScopeIndex
from aspider.plan.matching import match_scope
from aspider.plan.tasks import MatchResult
from aspider.processors import Level
from xnat_client.models import ProjectSnapshot, Session

if TYPE_CHECKING:
    from aspider.processors import Processor


@dataclass(frozen=True, slots=True)
class Scope:
    """The data one task may draw on: one session, or a subject's or a project's sessions."""

    project: str
    level: Level
    subject_id: str
    subject_label: str
    anchor: Session  # the session the assessor lives on
    sessions: tuple[Session, ...]
    index: ScopeIndex | None = field(default=None, compare=False, repr=False)  # see scope_index

    def default_match(self, processor: Processor) -> MatchResult:
        """The declarative matching of `processor`'s spec here (what `Processor.match` does)."""
        return match_scope(processor, self)


def session_order(session: Session) -> tuple[str, str]:
    """Oldest first; sessions without a date last; label breaks ties."""
    return (session.date or "9999-99-99", session.label)


def iter_scopes(snapshot: ProjectSnapshot, level: Level) -> Iterator[Scope]:
    """The scopes of a project at a level, each anchored on a session that holds the assessor."""
    if level in ("scan", "session"):
        for s in snapshot.sessions:
            yield Scope(snapshot.project, level, s.subject_id, s.subject_label, s, (s,))
        return
    groups: dict[str, list[Session]] = defaultdict(list)
    for s in snapshot.sessions:
        groups[s.subject_id if level == "subject" else ""].append(s)
    for sessions in groups.values():
        ordered = tuple(sorted(sessions, key=session_order))
        first = ordered[0]
        yield Scope(snapshot.project, level, first.subject_id, first.subject_label, first, ordered)
