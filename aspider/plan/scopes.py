"""
Scopes (pure): the data one task may draw on.

A scope is one session (scan- and session-level processors), or a subject's or a project's
sessions; its assessor lives on the anchor session (for a project, its first session), or,
for a subject, is the subject's own (DAX's proc:subjGenProcData, `own`).

As in DAX, a PET session is never the scope of a session processor: its scans reach session
processors through `petscans`, offered to the subject's first MR session (`peers` are the
subject's sessions, for that).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aspider.plan.artefacts import ScopeIndex
from aspider.plan.scope_matching import match_scope
from aspider.plan.sessions import is_pet, session_order
from aspider.plan.tasks import MatchResult
from aspider.processors import Level
from xnat_client.models import Assessor, ProjectSnapshot, Session

if TYPE_CHECKING:
    from aspider.processors import Processor

__all__ = ["Scope", "iter_scopes", "session_order"]  # session_order lives in plan.sessions


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
    peers: tuple[Session, ...] = field(default=(), compare=False, repr=False)  # the subject's
    # A subject scope's own assessors (DAX's proc:subjGenProcData), which belong to no session.
    own: tuple[Assessor, ...] = field(default=(), compare=False, repr=False)

    def default_match(self, processor: Processor) -> MatchResult:
        """The declarative matching of `processor`'s spec here (what `Processor.match` does)."""
        return match_scope(processor, self)


def iter_scopes(
    snapshot: ProjectSnapshot, level: Level, skip: Collection[str] = ()
) -> Iterator[Scope]:
    """
    The scopes of a project at a level, each anchored on a session that holds the assessor.
    At the session and scan levels, none for the sessions in `skip` (IDs the caller knows are
    settled: a quiet night builds no scope for them).
    """
    groups: dict[str, list[Session]] = defaultdict(list)
    if level in ("scan", "session"):
        wanted = [s for s in snapshot.sessions if s.id not in skip and not is_pet(s)]
        subjects = {s.subject_id for s in wanted}
        for s in snapshot.sessions:
            if s.subject_id in subjects:
                groups[s.subject_id].append(s)
        peers = {sid: tuple(sorted(group, key=session_order)) for sid, group in groups.items()}
        for s in wanted:
            mates = peers[s.subject_id]
            yield Scope(
                snapshot.project, level, s.subject_id, s.subject_label, s, (s,), None, mates
            )
        return
    for s in snapshot.sessions:
        groups[s.subject_id if level == "subject" else ""].append(s)
    own: dict[str, list[Assessor]] = defaultdict(list)
    if level == "subject":
        for a in snapshot.subject_assessors:
            own[a.subject_id].append(a)
    for key, sessions in groups.items():
        ordered = tuple(sorted(sessions, key=session_order))
        first = ordered[0]
        mine = tuple(own.get(key, ()))
        yield Scope(
            snapshot.project, level, first.subject_id, first.subject_label, first, ordered, own=mine
        )
