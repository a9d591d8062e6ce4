"""
What to say, from what was recorded and what a pass saw (pure: data in, data out).

For each problem the pass saw:

- new: recorded; told at once, or once it has stood for its patience (pending until then);
- pending, and its patience has run out: told;
- told already: nothing, except to a destination that did not get it (it failed, or is new).

For each recorded problem the pass did not see, in a domain the pass looked at, and not among
the keys it cannot judge yet:

- pending: forgotten (it never needed anyone);
- told: "resolved", to the destinations that were told (not where it was held back), then
  forgotten once every one of them has been told.

Saying is separate (`passes`): a `Notice` is told to its destinations, and `record` writes down
which took it, so a destination that failed is tried again on the next pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from aspider.notify.ledger import Entry, Ledger
from aspider.notify.problems import Observation, Problem, moment


@dataclass(frozen=True)
class Notice:
    """One thing to say about one problem, to these destinations (by id)."""

    kind: Literal["opened", "resolved"]
    entry: Entry
    destinations: tuple[str, ...]
    problem: Problem | None = None  # what was seen (opened), with its details

    @property
    def key(self) -> str:
        return self.entry.key


Route = Callable[[Entry], Iterable[str]]


def reconcile(
    ledger: Ledger, seen: Observation, now: datetime, route: Route
) -> tuple[Ledger, list[Notice]]:
    """The ledger after this pass, and what to say (see the module docstring)."""
    after = ledger.copy()
    stamp = now.isoformat(timespec="seconds")
    unique: dict[str, Problem] = {}
    for problem in seen.problems:  # the first of a key stands
        unique.setdefault(problem.key, problem)
    notices: list[Notice | None] = [_seen(after, p, now, stamp, route) for p in unique.values()]
    present = set(unique)
    for key, entry in list(after.problems.items()):
        judged = entry.project == seen.project and entry.domain in seen.domains
        if not judged or key in present or key in seen.undecided:
            continue
        notices.append(_gone(after, entry, stamp, route))
    return after, [n for n in notices if n is not None and n.destinations]


def _seen(ledger: Ledger, problem: Problem, now: datetime, stamp: str, route: Route) -> Notice:
    entry = ledger.problems.get(problem.key)
    if entry is None or entry.project != problem.project:
        entry = Entry(
            problem.project,
            problem.subject,
            problem.cause.value,
            problem.domain,
            problem.title,
            first_seen=stamp,
        )
        ledger.problems[problem.key] = entry
    entry.title = problem.title
    if entry.resolved:  # it came back before every destination heard it had cleared
        entry.resolved, entry.told_resolved = "", []
    if entry.pending:
        began = moment(entry.first_seen) or now
        if now - began < problem.patience:
            return Notice("opened", entry, (), problem)
        entry.opened = stamp
    wanted = tuple(d for d in route(entry) if d not in entry.told)
    return Notice("opened", entry, wanted, problem)


def _gone(ledger: Ledger, entry: Entry, stamp: str, route: Route) -> Notice | None:
    if entry.pending:
        del ledger.problems[entry.key]
        return None
    entry.resolved = entry.resolved or stamp
    reachable = set(route(entry))
    heard = [d for d in entry.told if d not in entry.held and d in reachable]
    wanted = tuple(d for d in heard if d not in entry.told_resolved)
    if not wanted:
        del ledger.problems[entry.key]
        return None
    return Notice("resolved", entry, wanted)


def record(ledger: Ledger, notice: Notice, took: Iterable[str], held: Iterable[str]) -> None:
    """
    Write down which destinations took the notice and where the rate limit held it back; a
    resolved problem every destination has heard about is forgotten.
    """
    entry = ledger.problems.get(notice.key)
    if entry is None:
        return
    took, held = list(took), list(held)
    if notice.kind == "opened":
        entry.told += [d for d in took + held if d not in entry.told]
        entry.held += [d for d in held if d not in entry.held]
        return
    entry.told_resolved += [d for d in took + held if d not in entry.told_resolved]
    waiting = [d for d in entry.told if d not in entry.held and d not in entry.told_resolved]
    if not waiting:
        del ledger.problems[notice.key]
