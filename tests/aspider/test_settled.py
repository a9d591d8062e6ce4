"""Skipping settled pairs: never changes a plan, and skips every pair of a settled project."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from aspider.plan import Plan, match_snapshots_sync, plan
from aspider.plan.labels import normalise_inputs
from aspider.plan.plan_json import plan_to_dict
from aspider.plan.settled import SETTLED_STATES, SettledMemo
from aspider.plan.states import ProcStatus
from aspider.processors import Processor, load_processors
from tests.aspider.snapshots import scan, session, snapshot
from xnat_client import Assessor, ProjectSnapshot

EXAMPLES = Path(__file__).parents[2] / "examples" / "processors"
PROCESSORS = load_processors([EXAMPLES])
SCANS = (("1", "T1w"), ("2", "DWI"), ("3", "rsfMRI"), ("4", "fMRI_task_nback"), ("5", "T1w"))


def _project(by_session: dict[str, list[Assessor]]) -> ProjectSnapshot:
    return snapshot(
        *(
            session(
                f"E{n}",
                f"SESS{n}",
                subject=f"SUBJ{n}",
                scans=tuple(scan(i, kind, resources={"NIFTI": 1, "EDAT": 1}) for i, kind in SCANS),
                assessors=tuple(by_session.get(f"E{n}", ())),
            )
            for n in range(3)
        )
    )


def _plan(
    snap: ProjectSnapshot,
    processors: list[Processor],
    *,
    skip: bool,
    memo: SettledMemo | None = None,
) -> Plan:
    matches = match_snapshots_sync([snap], processors, skip_settled=skip, memo=memo)
    return plan([snap], matches, processors=processors)


def _settled_project() -> dict[str, list[Assessor]]:
    """Plan, record every created task as COMPLETE, again until nothing is created."""
    by_session: dict[str, list[Assessor]] = {}
    while creates := list(_plan(_project(by_session), PROCESSORS, skip=False).actions()):
        for action in creates:
            assert action.kind in ("create", "submit")
            if action.kind != "create":
                continue
            t = action.task
            by_session.setdefault(t.session_id, []).append(
                Assessor(
                    id=f"A_{t.label}",
                    label=t.label,
                    project=t.project,
                    session_id=t.session_id,
                    proctype=t.proctype,
                    procversion=t.procversion,
                    procstatus="COMPLETE",
                    qcstatus="Passed",
                    inputs=normalise_inputs(json.loads(t.inputs_json)),
                    inputs_raw=t.inputs_json,
                    resources=tuple(o.resource for o in t.outputs),
                )
            )
    return by_session


SETTLED = _settled_project()
REMEMBERED = SettledMemo()
match_snapshots_sync([_project(SETTLED)], PROCESSORS, skip_settled=True, memo=REMEMBERED)
ALL = [(sid, n) for sid, assessors in sorted(SETTLED.items()) for n in range(len(assessors))]

_change = st.sampled_from(
    [
        ("procstatus", status)
        for status in ("COMPLETE", "JOB_FAILED", "NO_DATA", "JOB_RUNNING", "NEED_INPUTS")
    ]
    + [("procstatus", "READY_TO_UPLOAD"), ("procstatus", "BOGUS"), ("procstatus", "")]
    + [("qcstatus", qc) for qc in ("Passed", "Failed", "Rerun", "Needs QA", "")]
    + [("inputs", None), ("inputs", {"scan_t1": "/elsewhere"}), ("delete", None), ("dup", None)]
)


def _mutate(changes: list[tuple[tuple[str, int], tuple[str, object]]]) -> ProjectSnapshot:
    by_session = {sid: list(assessors) for sid, assessors in SETTLED.items()}
    for (sid, n), (what, value) in changes:
        assessors = by_session[sid]
        if n >= len(assessors):
            continue
        target = assessors[n]
        if what == "delete":
            del assessors[n]
        elif what == "dup":
            assessors.append(target.model_copy(update={"id": "DUP", "label": target.label + "x"}))
        elif what == "inputs":  # as XNAT holds it: the text, and what it parses to
            raw = "" if value is None else json.dumps(value)
            assessors[n] = target.model_copy(update={"inputs": value, "inputs_raw": raw})
        else:
            assessors[n] = target.model_copy(update={what: value})
    return _project(by_session)


def test_settled_project_is_skipped_whole() -> None:
    """Every task COMPLETE: every pair is skipped and the plan is empty either way."""
    snap = _project(SETTLED)
    # per session: dtiqa 1, fmriqa 2 (rsfMRI, task), freesurfer 1, rsfmri 1 (filter), tfmri 1
    assert len(ALL) == 3 * 6
    assert match_snapshots_sync([snap], PROCESSORS, skip_settled=True) == []
    assert _plan(snap, PROCESSORS, skip=False).actions() == []


def test_settled_states_come_from_the_state_table() -> None:
    """COMPLETE, JOB_FAILED and NO_DATA are final and quiet; nothing that acts is settled."""
    assert {ProcStatus.COMPLETE, ProcStatus.JOB_FAILED, ProcStatus.NO_DATA} == SETTLED_STATES


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(ALL), _change), min_size=1, max_size=4))
def test_skipping_settled_pairs_never_changes_the_plan(
    changes: list[tuple[tuple[str, int], tuple[str, object]]],
) -> None:
    """Any mix of changed statuses, QC, inputs, deleted or duplicated assessors: same plan."""
    snap = _mutate(changes)
    full = plan_to_dict(_plan(snap, PROCESSORS, skip=False))
    assert plan_to_dict(_plan(snap, PROCESSORS, skip=True)) == full
    memo = SettledMemo(previous=REMEMBERED.found)
    assert plan_to_dict(_plan(snap, PROCESSORS, skip=True, memo=memo)) == full


def test_a_remembered_session_is_not_matched_again() -> None:
    """Every session settled last time and unchanged: nothing is matched, all are found again."""
    assert set(REMEMBERED.found) == {"E0", "E1", "E2"}
    memo = SettledMemo(previous=REMEMBERED.found)
    assert match_snapshots_sync([_project(SETTLED)], PROCESSORS, skip_settled=True, memo=memo) == []
    assert memo.found == REMEMBERED.found


def test_a_changed_session_is_checked_again_and_forgotten_when_unsettled() -> None:
    """E1's imgstats-like assessor fails QC: E1 is planned again and leaves the memo."""
    changed = _mutate([(("E1", 0), ("qcstatus", "Rerun"))])
    memo = SettledMemo(previous=REMEMBERED.found)
    matches = match_snapshots_sync([changed], PROCESSORS, skip_settled=True, memo=memo)
    assert {m.scope.anchor.id for m in matches} == {"E1"}
    assert set(memo.found) == {"E0", "E2"}
    assert [a.kind for a in plan([changed], matches).actions()] == ["rerun", "submit"]


def test_a_changed_processor_forgets_every_session() -> None:
    """A processor set other than the remembered one: the fingerprints differ, all are checked."""
    fewer = PROCESSORS[:-1]
    memo = SettledMemo(previous=REMEMBERED.found)
    match_snapshots_sync([_project(SETTLED)], fewer, skip_settled=True, memo=memo)
    assert set(memo.found) == {"E0", "E1", "E2"}
    assert not set(memo.found.values()) & set(REMEMBERED.found.values())
