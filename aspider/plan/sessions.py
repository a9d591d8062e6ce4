"""
Sessions as DAX orders and sorts them (pure): oldest first, MR and PET told apart, and the PET
sessions a session processor's `petscans` may draw on.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from xnat_client.models import Session

if TYPE_CHECKING:
    from aspider.plan.scopes import Scope


def session_order(session: Session) -> tuple[str, str]:
    """Oldest first; sessions without a date last; label breaks ties."""
    return (session.date or "9999-99-99", session.label)


def is_pet(session: Session) -> bool:
    return session.xsi_type.lower() == "xnat:petsessiondata"


def is_mr(session: Session) -> bool:
    return session.xsi_type.lower() == "xnat:mrsessiondata"


def pet_sessions(scope: Scope, tracers: re.Pattern[str]) -> tuple[Session, ...]:
    """
    The PET sessions whose scans a `petscans` input may take in a session scope: the subject's
    PET sessions with a matching tracer, offered only when the scope is the subject's first
    session that is not PET (DAX offers them to one session of the subject, its first).
    """
    others = [s for s in scope.peers if not is_pet(s)]
    if not others or others[0].id != scope.anchor.id:
        return ()
    return tuple(s for s in scope.peers if is_pet(s) and tracers.match(s.tracer))
