"""
A trial's assessor (`aspider trial`, proctype `TRIAL_<proctype>`) is no processor's: the
planner neither pairs it with a task nor stages it as an input, the queue and the status views
do not count it, and no processor aspider loads may carry or name a trial's proctype. The trial
itself (`trial_of`) sees its own assessor, and only it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from aspider._exceptions import ProcessorError
from aspider.demo import DEMO_PROCESSORS
from aspider.plan import Plan, PlanLimits, match_snapshots_sync, plan
from aspider.plan.artefacts import scope_index
from aspider.plan.labels import assessor_label, canonical_inputs_json, inputs_digest
from aspider.plan.scopes import iter_scopes
from aspider.processors import (
    Processor,
    is_trial,
    load_processor_class,
    load_processors,
    parse_processor_text,
    trial_of,
)
from aspider.serve.status import project_status
from tests.aspider.procs import downstream_processor, t1_processor
from tests.aspider.snapshots import assessor, scan, scan_path, session, snapshot
from xnat_client import Assessor, ProjectSnapshot

T1_INPUTS = {"scan_t1": scan_path("301")}
DIGEST = inputs_digest(canonical_inputs_json(T1_INPUTS))
OUR_LABEL = assessor_label("P", "SUBJ1", "SESS1", "fs_v7", DIGEST)
TRIAL_LABEL = assessor_label("P", "SUBJ1", "SESS1", "TRIAL_fs_v7", DIGEST)


def trial_assessor(procstatus: str = "COMPLETE", jobid: str = "") -> Assessor:
    """A kept trial of fs_v7 on SESS1's T1: the very inputs and outputs fs_v7's task has."""
    return assessor(
        TRIAL_LABEL,
        "TRIAL_fs_v7",
        T1_INPUTS,
        procstatus=procstatus,
        jobid=jobid,
        resources=("STATS",),
    )


def one_session(*assessors: Assessor) -> ProjectSnapshot:
    return snapshot(session(scans=(scan("301", "T1w"),), assessors=assessors))


def planned(
    snap: ProjectSnapshot, procs: list[Processor], limits: PlanLimits | None = None
) -> Plan:
    return plan([snap], match_snapshots_sync([snap], procs), (), limits or PlanLimits())


def test_trial_label_and_proctype_take_dax_trial_form() -> None:
    """The trial's task is `P-x-SUBJ-x-SESS-x-TRIAL_<proctype>-x-<digest>`, typed TRIAL_."""
    trial = trial_of(t1_processor())
    assert (trial.proctype, trial.procversion) == ("TRIAL_fs_v7", "7.0.0")
    assert is_trial(trial.proctype)
    create, submit = planned(one_session(), [trial]).actions()
    assert (create.kind, submit.kind) == ("create", "submit")
    assert submit.task.label == TRIAL_LABEL
    assert submit.task.proctype == "TRIAL_fs_v7"


def test_processor_neither_pairs_with_nor_reports_a_kept_trial() -> None:
    """A COMPLETE trial with the task's very inputs: the sweep still creates its own task."""
    p = planned(one_session(trial_assessor()), [t1_processor()])
    assert [(a.kind, a.task.label) for a in p.actions()] == [
        ("create", OUR_LABEL),
        ("submit", OUR_LABEL),
    ]
    assert not [f for s in p.sessions for f in s.findings]


def test_trial_sees_its_own_assessor_and_nothing_to_do() -> None:
    """The trial follows its own assessor (found by its exact proctype): COMPLETE, no action."""
    p = planned(one_session(trial_assessor()), [trial_of(t1_processor())])
    assert p.actions() == []


def test_running_trial_takes_no_room_in_the_projects_queue() -> None:
    """A trial's job in the queue is not counted against the sweep's `max_queued`."""
    snap = one_session(trial_assessor("JOB_RUNNING", jobid="4711"))
    p = planned(snap, [t1_processor()], PlanLimits(max_queued=1))
    assert p.in_queue == 0
    assert ("submit", OUR_LABEL) in [(a.kind, a.task.label) for a in p.actions()]


def test_trial_assessor_is_never_a_downstream_input() -> None:
    """Downstream of fs_v7 takes fs_v7's own result, never the trial's, even when alone."""
    down = downstream_processor(needs_qc=False)
    alone = one_session(trial_assessor())
    (match,) = match_snapshots_sync([alone], [down])
    assert match.result.not_applicable is not None
    assert "assr_fs: no fs_v7 assessor" in match.result.not_applicable.reasons
    assert planned(alone, [down]).actions() == []
    ours = assessor(OUR_LABEL, "fs_v7", T1_INPUTS, resources=("STATS",))
    both = one_session(trial_assessor(), ours)
    create, submit = planned(both, [down]).actions()
    taken = {i.assessor_label for i in submit.task.inputs if i.assessor_label}
    assert (create.kind, taken) == ("create", {OUR_LABEL})


def test_scope_index_finds_a_trial_only_by_its_own_proctype() -> None:
    """The index's inputs leave trials out; `of_proctype` still finds one for its trial."""
    ours = assessor(OUR_LABEL, "fs_v7", T1_INPUTS)
    (scope,) = iter_scopes(one_session(trial_assessor(), ours), "session")
    index = scope_index(scope)
    assert [a.assessor.label for a in index.assessors["E1"]] == [OUR_LABEL]
    assert [a.assessor.label for a in index.of_proctype("TRIAL_fs_v7")] == [TRIAL_LABEL]


def test_processor_file_named_trial_is_refused(tmp_path: Path) -> None:
    """`TRIAL_x_v1.0.0.yaml`: refused on its first line, saying the prefix is kept for trials."""
    path = tmp_path / "TRIAL_imgstats_v1.0.0.yaml"
    path.write_text((DEMO_PROCESSORS / "imgstats_v1.0.0.yaml").read_text())
    with pytest.raises(ProcessorError) as caught:
        load_processors([path])
    (issue,) = caught.value.issues
    assert (issue.path, issue.line) == (str(path), 1)
    assert "TRIAL_ names are kept for trial runs (`aspider trial`)" in issue.message


def test_input_naming_a_trial_proctype_is_refused() -> None:
    """An assessor input `proctypes: TRIAL_fs_v7` could only ever block: file:line: field."""
    text = """\
inputs:
  xnat:
    assessors:
      - name: assr_fs
        proctypes: fs_v7,TRIAL_fs_v7
command:
  type: shell
  script: echo
"""
    with pytest.raises(ProcessorError) as caught:
        parse_processor_text(text, "down_v1.0.0.yaml")
    (issue,) = caught.value.issues
    assert (issue.line, issue.field) == (5, "inputs.xnat.assessors[0].proctypes")
    assert issue.message.startswith("TRIAL_fs_v7: TRIAL_ names are kept for trial runs")


class TrialNamed(Processor):
    """A Python processor that takes a trial's name (refused when loaded by reference)."""

    SPEC = t1_processor().spec
    PROCTYPE = "TRIAL_fs_v7"
    PROCVERSION = "7.0.0"


def test_python_processor_with_a_trial_proctype_is_refused() -> None:
    """`processor_classes` may not name a class whose proctype is a trial's."""
    with pytest.raises(ProcessorError, match="proctype TRIAL_fs_v7: TRIAL_ names are kept"):
        load_processor_class(f"{__name__}:{TrialNamed.__name__}")


def test_status_model_counts_and_lists_no_trial() -> None:
    """The status page, `/api/v1/status` and `aspider status` leave a kept trial out."""
    failed = trial_assessor("JOB_FAILED")
    snap = one_session(failed, assessor(OUR_LABEL, "fs_v7", T1_INPUTS))
    status = project_status(
        snap, ["fs_v7"], link_base="https://x", today=date(2030, 1, 1), taken_at="now"
    )
    assert status.matrix == {"fs_v7": {"COMPLETE": 1}}
    assert status.not_configured == []
    assert status.attention == []
