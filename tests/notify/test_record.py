"""
What to say, from the record and what a pass saw (pure): once, resolved once, only what a
pass looked at, patience, retries of failed channels; the hourly limit; the record's format.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from aspider.notify.ledger import Ledger
from aspider.notify.problems import Cause, Observation, Problem
from aspider.notify.rate import HOUR, RateLimit
from aspider.notify.reconcile import reconcile, record

T0 = datetime(2026, 12, 8, 7, 0).astimezone()
DOMAIN = "proctype:fs7_v1"


def _failed(label: str, project: str = "P1") -> Problem:
    return Problem(project, label, Cause.FAILED, DOMAIN, f"fs7_v1 failed ({label})")


def _seen(*problems: Problem, undecided: frozenset[str] = frozenset()) -> Observation:
    return Observation("P1", problems, frozenset({DOMAIN}), undecided)


def _both(entry: object) -> list[str]:
    return ["email:ops@lab.test", "webhook:abc"]


def _pass(ledger: Ledger, seen: Observation, at: datetime = T0) -> tuple[Ledger, list[str]]:
    """One pass in which every channel takes every notice; what was said, as kind:key@dest."""
    after, notices = reconcile(ledger, seen, at, _both)
    said = []
    for notice in notices:
        record(after, notice, notice.destinations, [])
        said += [f"{notice.kind}:{notice.key}@{d}" for d in notice.destinations]
    return after, said


def test_a_problem_is_told_once_then_resolved_once_then_again_if_it_returns() -> None:
    """Seen: told; seen again: nothing; gone: resolved; gone still: nothing; back: told."""
    ledger, said = _pass(Ledger(), _seen(_failed("A")))
    assert said == ["opened:failed:A@email:ops@lab.test", "opened:failed:A@webhook:abc"]
    ledger, said = _pass(ledger, _seen(_failed("A")))
    assert said == []
    ledger, said = _pass(ledger, _seen())
    assert said == ["resolved:failed:A@email:ops@lab.test", "resolved:failed:A@webhook:abc"]
    assert ledger.problems == {}
    ledger, said = _pass(ledger, _seen())
    assert said == []
    ledger, said = _pass(ledger, _seen(_failed("A")))
    assert len(said) == 2


def test_only_what_a_pass_looked_at_is_resolved() -> None:
    """Another processor's domain, another project, or an undecided key stays as it is."""
    ledger, _ = _pass(Ledger(), _seen(_failed("A"), _failed("B")))
    other_domain = Observation("P1", (), frozenset({"proctype:dti_v1"}))
    other_project = Observation("P2", (), frozenset({DOMAIN}))
    for seen in (other_domain, other_project, _seen(undecided=frozenset({"failed:A", "failed:B"}))):
        ledger, said = _pass(ledger, seen)
        assert said == []
    assert sorted(ledger.problems) == ["failed:A", "failed:B"]


def test_patience_waits_then_tells_and_a_short_outage_is_never_told() -> None:
    """A cluster failing 5 minutes of 10: nothing at all; failing past 10: told."""
    down = Problem(
        "P1", "slurm at login", Cause.CLUSTER, "cluster:x", "down", patience=timedelta(minutes=10)
    )
    seen = Observation("P1", (down,), frozenset({"cluster:x"}))
    ledger, said = _pass(Ledger(), seen)
    assert said == []
    ledger, said = _pass(ledger, seen, T0 + timedelta(minutes=5))
    assert said == []
    back, said = _pass(ledger, Observation("P1", (), frozenset({"cluster:x"})))
    assert said == []
    assert back.problems == {}
    ledger, said = _pass(ledger, seen, T0 + timedelta(minutes=11))
    assert said == [f"opened:cluster:slurm at login@{d}" for d in _both(None)]


def test_a_channel_that_failed_is_tried_again_and_a_held_one_is_not() -> None:
    """Nothing recorded for a failed channel: the next pass tells it; held means told."""
    after, notices = reconcile(Ledger(), _seen(_failed("A")), T0, _both)
    (notice,) = notices
    record(after, notice, took=[], held=["webhook:abc"])  # email failed, webhook held back
    again, notices = reconcile(after, _seen(_failed("A")), T0, _both)
    assert [n.destinations for n in notices] == [("email:ops@lab.test",)]
    record(again, notices[0], took=["email:ops@lab.test"], held=[])
    _, notices = reconcile(again, _seen(), T0, _both)
    assert [n.destinations for n in notices] == [("email:ops@lab.test",)]  # not where held


def test_the_record_reads_back_what_it_wrote() -> None:
    """The JSON document round-trips; a record of another format is refused."""
    ledger, _ = _pass(Ledger(), _seen(_failed("A")))
    ledger.digest.slot = "2026-12-08"
    assert Ledger.from_bytes(ledger.to_bytes()) == ledger
    with pytest.raises(ValueError, match="format 1"):
        Ledger.from_bytes(b'{"format": 99}')


def test_the_rate_limit_counts_per_channel_per_hour_and_notes_once_an_hour() -> None:
    """3 an hour: the 4th and 5th are held; one note of 2; an hour later there is room."""
    limit = RateLimit(3)
    assert [limit.admit("mail", t) for t in range(5)] == [True, True, True, False, False]
    assert limit.admit("hook", 5)
    assert limit.note_due("mail", 6) == 2
    limit.noted("mail", 2, 6)
    assert not limit.admit("mail", 7)
    assert limit.note_due("mail", 8) == 0  # a note went out within the hour
    assert limit.note_due("mail", 6 + HOUR) == 1
    assert limit.admit("mail", 6 + HOUR)
