"""Staleness (pure): what a result was made from, read back from its note, against the snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from aspider.notify.digest import digest_message, project_digest
from aspider.plan import (
    MadeFrom,
    Plan,
    PlanLimits,
    Rerun,
    SettledMemo,
    Submit,
    Task,
    find_stale,
    made_from,
    match_snapshots_sync,
    note_text,
    plan,
    read_made_from,
)
from aspider.plan.made_from import InputMark
from aspider.plan.retry import first_attempt, with_head
from aspider.processors import Processor, with_stale_policy
from tests.aspider.procs import downstream_processor, t1_processor
from tests.aspider.snapshots import assessor, session, snapshot
from xnat_client import Assessor, ProjectSnapshot, Resource, Scan

FS, DOWN = t1_processor(), downstream_processor(needs_qc=False)


def _scan(size: int = 1000, count: int = 1) -> Scan:
    nifti = Resource(label="NIFTI", file_count=count, file_size=size)
    return Scan(id="301", type="T1w", quality="usable", resources=(nifti,))


def _task(snap: ProjectSnapshot, procs: Sequence[Processor], proctype: str) -> Task:
    """The task the planner would submit for `proctype` in this snapshot."""
    matches = match_snapshots_sync([snap], procs)
    actions = plan([snap], matches, (), PlanLimits(), None, procs).actions()
    return next(a.task for a in actions if isinstance(a, Submit) and a.task.proctype == proctype)


def _completed(task: Task, jobid: str) -> Assessor:
    """The task's assessor as aspider leaves it COMPLETE: its record and what made it."""
    made = made_from(task)
    assert made is not None
    head = first_attempt(task.requirements.memory_mb, task.requirements.walltime_seconds)
    note = with_head(head.ended(jobid, "success"), made.text())
    return assessor(
        task.label,
        task.proctype,
        dict(task.inputs and _inputs(task)),
        jobid=jobid,
        note=note,
        resources=("STATS",),
    )


def _inputs(task: Task) -> dict[str, str]:
    return {i.name: i.path for i in task.inputs}


def _project(scan: Scan, *assessors: Assessor) -> ProjectSnapshot:
    return snapshot(session(scans=(scan,), assessors=assessors))


def _complete_chain(size: int = 1000) -> tuple[Assessor, Assessor]:
    """fs_v7 COMPLETE (job 11) and its downstream COMPLETE on it (job 12)."""
    fs = _completed(_task(_project(_scan(size)), [FS], "fs_v7"), "11")
    down = _completed(_task(_project(_scan(size), fs), [FS, DOWN], "down_v1"), "12")
    return fs, down


def test_a_result_made_from_what_is_there_now_is_not_stale() -> None:
    fs, down = _complete_chain()
    found = find_stale([_project(_scan(), fs, down)], [FS, DOWN])
    assert found.stale == ()
    assert dict(found.checked) == {"fs_v7": 1, "down_v1": 1}
    assert read_made_from(fs.note) is not None
    assert note_text(fs.note) == ""


def test_a_changed_input_makes_its_result_and_the_downstream_stale() -> None:
    fs, down = _complete_chain()
    found = find_stale([_project(_scan(size=2000), fs, down)], [FS, DOWN])
    assert [(r.label, sorted(r.kinds)) for r in found.stale] == [
        (fs.label, ["inputs"]),  # upstream first
        (down.label, ["inputs", "upstream"]),  # it reads the scan too, and fs_v7's outputs
    ]
    assert "1 files, 1000 bytes -> 1 files, 2000 bytes" in found.stale[0].text()
    assert f"upstream stale ({fs.label})" in found.stale[1].text()
    assert found.per_processor() == {"fs_v7": 1, "down_v1": 1}


def test_a_rerun_upstream_makes_the_downstream_stale() -> None:
    fs, down = _complete_chain()
    rerun = fs.model_copy(update={"jobid": "99"})
    (stale,) = find_stale([_project(_scan(), rerun, down)], [FS, DOWN]).stale
    assert stale.label == down.label
    assert f"upstream rerun ({fs.label}: job 11 -> 99)" in stale.text()


def test_a_changed_processor_makes_every_result_of_it_stale_and_only_those() -> None:
    fs, down = _complete_chain()
    changed = t1_processor(skip_unusable=True)  # another definition under the same name
    assert changed.definition_digest != FS.definition_digest
    found = find_stale([_project(_scan(), fs, down)], [changed, DOWN])
    assert [(r.label, sorted(r.kinds)) for r in found.stale] == [
        (fs.label, ["processor"]),
        (down.label, ["upstream"]),
    ]


def test_what_a_result_asks_of_the_scheduler_is_not_what_makes_it() -> None:
    """A request, a priority or a retry policy changed is no reason to redo a result."""
    busier = t1_processor(priority=5, max_queued=3, retry="{attempts: 4}")
    assert busier.definition_digest == FS.definition_digest


def test_a_gone_input_is_reported_and_never_sent_back() -> None:
    fs, _ = _complete_chain()
    empty = Scan(id="301", type="T1w", quality="usable", resources=())
    (stale,) = find_stale([_project(empty, fs)], [FS]).stale
    assert stale.kinds == {"gone"}
    policy = with_stale_policy(FS, ["inputs", "upstream", "processor"])
    snap = _project(empty, fs)
    matches = match_snapshots_sync([snap], [policy])
    actions = plan([snap], matches, (), PlanLimits(), None, [policy]).actions()
    assert not any(isinstance(a, Rerun) for a in actions)


def test_a_result_with_no_record_is_provenance_unknown_never_stale() -> None:
    fs, _ = _complete_chain()
    dax = fs.model_copy(update={"note": ""})
    found = find_stale([_project(_scan(size=5), dax)], [FS])
    assert (found.stale, dict(found.unknown)) == ((), {"fs_v7": 1})


def _reruns(snap: ProjectSnapshot, procs: Sequence[Processor]) -> list[Rerun]:
    matches = match_snapshots_sync([snap], procs, skip_settled=True)
    return [
        a
        for a in plan([snap], matches, (), PlanLimits(), None, procs).actions()
        if isinstance(a, Rerun)
    ]


def test_the_policy_sends_back_exactly_the_stale_results_it_names_saying_why() -> None:
    fs, down = _complete_chain()
    snap = _project(_scan(size=2000), fs, down)
    procs = [with_stale_policy(p, ["inputs", "upstream"]) for p in (FS, DOWN)]
    reruns = _reruns(snap, procs)
    assert [r.assessor.label for r in reruns] == [fs.label, down.label]
    assert all("sent back by rerun_stale" in r.reason for r in reruns)
    assert "inputs:" in reruns[0].reason
    assert _reruns(snap, [FS, DOWN]) == []  # no policy: reported only


def test_a_downstream_goes_back_through_a_stale_upstream_only_with_it() -> None:
    """Rerun on an upstream that stays stale, it would be stale again at the next sweep."""
    fs, down = _complete_chain()
    snap = _project(_scan(size=2000), fs, down)
    procs = [FS, with_stale_policy(DOWN, ["upstream"])]  # fs itself is not sent back
    assert _reruns(snap, procs) == []


@given(
    name=st.text(min_size=1, max_size=20),
    resource=st.text(min_size=1, max_size=20),
    files=st.none() | st.integers(0, 10**6),
    size=st.none() | st.integers(0, 10**15),
    job=st.text(max_size=20),
)
def test_any_record_reads_back_as_written(
    name: str, resource: str, files: int | None, size: int | None, job: str
) -> None:
    made = MadeFrom(
        "0123456789ab", (InputMark(name, resource, files, size), InputMark(name, job=job))
    )
    note = with_head(first_attempt(1024, 3600).ended("7", "success"), made.text())
    assert read_made_from(note) == made
    assert note_text(note) == ""


def test_the_digest_lists_the_stale_results_with_why() -> None:
    fs, down = _complete_chain()
    snap = _project(_scan(size=2000), fs, down)
    staleness = find_stale([snap], [FS, DOWN])
    since = datetime(2020, 1, 1, tzinfo=UTC)
    part = project_digest(snap, ["fs_v7", "down_v1"], since=since, staleness=staleness)
    assert [t.label for t in part.stale] == [fs.label, down.label]
    message = digest_message([part], now=datetime(2030, 1, 1, tzinfo=UTC))
    assert "stale (made from what changed since; aspider status P --stale): 2" in message.text
    assert "1 files, 1000 bytes -> 1 files, 2000 bytes" in message.text
    assert fs.label in (message.html or "")
    fresh = project_digest(snap, ["fs_v7"], since=since, staleness=None)
    assert fresh.stale == []


def test_the_settled_memo_skips_only_what_has_not_changed() -> None:
    """A quiet night reads no result again; a changed input is seen the next sweep all the
    same, and a session with a stale result is never remembered as settled."""
    fs, down = _complete_chain()

    def swept(snap: ProjectSnapshot, previous: dict[str, str]) -> tuple[Plan, SettledMemo]:
        memo = SettledMemo(previous=previous)
        matches = match_snapshots_sync([snap], [FS, DOWN], skip_settled=True, memo=memo)
        return plan([snap], matches, (), PlanLimits(), None, [FS, DOWN], memo), memo

    quiet = _project(_scan(), fs, down)
    first, memo = swept(quiet, {})
    assert (first.staleness.stale, list(memo.found)) == ((), ["E1"])
    second, again = swept(quiet, memo.found)
    assert again.unchanged == {"E1"}
    assert second.staleness.checked == ()  # nothing read again
    changed = _project(_scan(size=2000), fs, down)
    third, after = swept(changed, again.found)
    assert [r.label for r in third.staleness.stale] == [fs.label, down.label]
    assert after.found == {}
    fourth, _ = swept(changed, after.found)
    assert [r.label for r in fourth.staleness.stale] == [fs.label, down.label]
