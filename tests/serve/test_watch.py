"""The watch (pure): hints and changes settle into due sessions; the schedule's next time."""

from __future__ import annotations

from datetime import datetime

from aspider.serve.schedule import next_full_sweep
from aspider.serve.watch import ChangeWatch
from xnat_client import SessionChange


def rows(**last_modified: str) -> list[SessionChange]:
    """One row per session label=timestamp; IDs are X_<label>, subjects SUBJ_<first letter>."""
    return [
        SessionChange(id=f"X_{label}", label=label, subject_id=f"SUBJ_{label[0]}", last_modified=lm)
        for label, lm in last_modified.items()
    ]


def test_the_first_look_only_records_what_is_there() -> None:
    """Sessions present at the first look are the baseline, not changes."""
    watch = ChangeWatch(settle=2)
    watch.observe(rows(E1="t1", E2="t1"), now=0)
    assert watch.pending == {}
    assert not watch.needs_look(100)


def test_a_hint_is_due_after_a_look_a_settle_time_later_unchanged() -> None:
    """POST at 10, looks at 10 and 12 see the same last_modified: due at 12, not before."""
    watch = ChangeWatch(settle=2)
    watch.observe(rows(E1="t1"), now=0)
    watch.hint("E1", now=10)
    assert watch.needs_look(10)
    watch.observe(rows(E1="t1"), now=10)
    assert watch.take_due() == []
    assert not watch.needs_look(11)
    assert watch.next_wake() == 12
    watch.observe(rows(E1="t1"), now=12)
    (due,) = watch.take_due()
    assert (due.label, due.cause, due.first_seen) == ("E1", "event", 10)
    assert watch.pending == {}


def test_a_session_still_changing_waits_until_quiet() -> None:
    """Each look that sees last_modified move restarts the settle time."""
    watch = ChangeWatch(settle=2)
    watch.observe(rows(), now=0)
    watch.observe(rows(E1="t1"), now=5)  # archived: a change
    watch.observe(rows(E1="t2"), now=7)  # a scan more
    assert watch.take_due() == []
    watch.observe(rows(E1="t2"), now=8)  # quiet for 1 s only
    assert watch.take_due() == []
    watch.observe(rows(E1="t2"), now=9)
    assert [p.label for p in watch.take_due()] == ["E1"]


def test_events_for_one_session_coalesce() -> None:
    """Five hints (by label and by ID) and a seen change make one due session."""
    watch = ChangeWatch(settle=1)
    watch.observe(rows(E1="t1"), now=0)
    for n in range(4):
        watch.hint("E1", now=1 + n * 0.1)
    watch.hint("X_E1", now=1.5)
    watch.observe(rows(E1="t2"), now=1.6)
    watch.observe(rows(E1="t2"), now=2.7)
    due = watch.take_due()
    assert [(p.label, p.first_seen) for p in due] == [("E1", 1)]


def test_hints_for_unknown_sessions_are_dropped_and_subjects_expand() -> None:
    """A hint naming nothing XNAT has is dropped; a subject hint pends all its sessions."""
    watch = ChangeWatch(settle=0)
    watch.observe(rows(A1="t", A2="t", B1="t"), now=0)
    watch.hint("NOPE", now=1)
    watch.hint("SUBJ_A", now=1, subject=True)
    assert watch.observe(rows(A1="t", A2="t", B1="t"), now=1) == ["NOPE"]
    watch.observe(rows(A1="t", A2="t", B1="t"), now=1.1)
    assert sorted(p.label for p in watch.take_due()) == ["A1", "A2"]
    assert watch.subject_sessions({"SUBJ_A"}) == ["A1", "A2"]


def test_a_session_deleted_while_pending_is_forgotten() -> None:
    """Gone from the listing: no sweep for it."""
    watch = ChangeWatch(settle=1)
    watch.observe(rows(E1="t"), now=0)
    watch.hint("E1", now=1)
    watch.observe(rows(E1="t"), now=1)
    watch.observe(rows(), now=2)
    assert watch.take_due() == []
    assert watch.pending == {}


def test_the_next_full_sweep_is_the_next_time_of_day() -> None:
    """01:15 is today when it is still ahead, else tomorrow; "" is never."""
    assert next_full_sweep(datetime(2024, 5, 1, 0, 30), "01:15") == datetime(2024, 5, 1, 1, 15)
    assert next_full_sweep(datetime(2024, 5, 1, 1, 15), "01:15") == datetime(2024, 5, 2, 1, 15)
    assert next_full_sweep(datetime(2024, 12, 31, 23, 0), "01:15") == datetime(2025, 1, 1, 1, 15)
    assert next_full_sweep(datetime(2024, 5, 1), "") is None
