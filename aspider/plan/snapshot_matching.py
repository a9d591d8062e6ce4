"""
Matching every processor in every scope of some snapshots (pure, but for custom hooks).

Most nights most (processor, scope) pairs are settled (`aspider.plan.settled`): those are proved
to plan to nothing from their candidates' keys alone and are left out, and the sessions the last
sweep found settled are not even looked at again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aspider._gc import gc_paused
from aspider.plan.scopes import Scope, iter_scopes
from aspider.plan.settled import SettledMemo, is_settled, processors_digest, session_fingerprint
from aspider.plan.tasks import MatchResult, NotApplicable
from aspider.processors import Level, Processor
from xnat_client.models import ProjectSnapshot

_SESSION_LEVELS = ("scan", "session")  # processors whose scope is one session


@dataclass(frozen=True, slots=True)
class ScopeMatch:
    processor: Processor
    scope: Scope
    result: MatchResult


async def match_snapshots(
    snapshots: Sequence[ProjectSnapshot],
    processors: Sequence[Processor],
    *,
    skip_settled: bool = False,
    memo: SettledMemo | None = None,
) -> list[ScopeMatch]:
    """
    Every processor's candidates in every scope, through its (possibly custom) hook.

    With `skip_settled`, pairs that `aspider.plan.settled.is_settled` proves would plan to nothing
    are left out (only for processors that keep the declarative matching): `plan` of the rest
    equals `plan` of all. `explain` wants every candidate, so it is off by default. With a
    `memo` as well, sessions it remembers as settled (same fingerprint) are not even checked,
    and the sessions found settled now are added to `memo.found`.
    """
    with gc_paused():  # never across an await: the hooks below may do I/O
        pairs = _due_pairs(snapshots, processors, skip_settled, memo, hooks=True)
        found = [
            None if _has_match_hook(p) else ScopeMatch(p, scope, p.default_match(scope))
            for p, scope in pairs
        ]
    for n, (p, scope) in enumerate(pairs):
        if found[n] is None:
            found[n] = ScopeMatch(p, scope, await p.match(scope))
    return [m for m in found if m is not None]


def match_snapshots_sync(
    snapshots: Sequence[ProjectSnapshot],
    processors: Sequence[Processor],
    *,
    skip_settled: bool = False,
    memo: SettledMemo | None = None,
) -> list[ScopeMatch]:
    """The same with the declarative matching only (custom `match` hooks are not called)."""
    with gc_paused():
        pairs = _due_pairs(snapshots, processors, skip_settled, memo, hooks=False)
        return [ScopeMatch(p, scope, p.default_match(scope)) for p, scope in pairs]


def _due_pairs(
    snapshots: Sequence[ProjectSnapshot],
    processors: Sequence[Processor],
    skip_settled: bool,
    memo: SettledMemo | None,
    *,
    hooks: bool,
) -> list[tuple[Processor, Scope]]:
    """The (processor, scope) pairs to match: all, or those not proved settled."""
    pairs: list[tuple[Processor, Scope]] = []
    skippable = [p for p in processors if skip_settled and not (hooks and _has_match_hook(p))]
    # A session fingerprint covers that session only: a processor reading other sessions of
    # the subject (`petscans`) is never skipped by the memo.
    per_session = [
        p for p in skippable if p.level in _SESSION_LEVELS and not p.spec.inputs.xnat.petscans
    ]
    # Where every processor on session scopes is skipped by the memo, a remembered session
    # needs no scope built at all.
    on_sessions = [p for p in processors if p.level in _SESSION_LEVELS]
    memo_decides = bool(on_sessions) and all(p in per_session for p in on_sessions)
    for snap in snapshots:
        fingerprints: dict[str, str] = {}
        if memo is not None and per_session:
            digest = processors_digest(per_session)
            fingerprints = {
                s.id: session_fingerprint(snap.project, s, digest) for s in snap.sessions
            }
        remembered = {
            sid for sid, fp in fingerprints.items() if memo and memo.previous.get(sid) == fp
        }
        if memo is not None:
            memo.unchanged |= remembered
            memo.unchanged_proctypes = frozenset(p.proctype for p in per_session)
        scopes = _scopes_by_level(snap, processors, remembered if memo_decides else set())
        unsettled: set[str] = set()
        for p in processors:
            skip = p in skippable
            by_session = p in per_session
            for scope in scopes[p.level]:
                if by_session and scope.anchor.id in remembered:
                    continue
                if skip and is_settled(p, scope):
                    continue
                pairs.append((p, scope))
                if by_session:
                    unsettled.add(scope.anchor.id)
        if memo is not None:
            memo.found.update((sid, fp) for sid, fp in fingerprints.items() if sid not in unsettled)
    return pairs


def _has_match_hook(processor: Processor) -> bool:
    """A subclass's own `match` may see what declarative matching does not: never skip it."""
    return type(processor).match is not Processor.match


def _scopes_by_level(
    snap: ProjectSnapshot, processors: Sequence[Processor], settled: set[str]
) -> dict[str, list[Scope]]:
    """
    Scopes built once per level and shared by the processors of that level; at the session
    levels none for the `settled` sessions.
    """
    levels: dict[str, Level] = {
        "scan": "session",
        "session": "session",
        "subject": "subject",
        "project": "project",
    }
    built = {
        lvl: list(iter_scopes(snap, lvl, settled if lvl == "session" else ()))
        for lvl in {levels[p.level] for p in processors}
    }
    return {p.level: built[levels[p.level]] for p in processors}


def not_applicable(matches: Sequence[ScopeMatch]) -> list[NotApplicable]:
    """Why each processor does not apply where it does not (for explain)."""
    return [m.result.not_applicable for m in matches if m.result.not_applicable is not None]
