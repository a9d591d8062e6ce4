"""Planner: the state table applied to assessors, jobs and limits."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aspider.plan import Plan, PlanLimits, match_snapshots_sync, plan
from aspider.plan.actions import JobObservation
from aspider.plan.labels import assessor_label, canonical_inputs_json, inputs_digest
from aspider.plan.plan_json import plan_to_dict
from aspider.plan.states import ProcStatus, Reason
from aspider.processors import Processor
from tests.aspider.procs import downstream_processor, t1_processor
from tests.aspider.snapshots import assessor, scan, scan_path, session, snapshot
from xnat_client import Assessor, ProjectSnapshot

T1_INPUTS = {"scan_t1": scan_path("301")}
OUR_LABEL = assessor_label(
    "P", "SUBJ1", "SESS1", "fs_v7", inputs_digest(canonical_inputs_json(T1_INPUTS))
)


def run_plan(
    snaps: ProjectSnapshot | Sequence[ProjectSnapshot],
    procs: Sequence[Processor] | None = None,
    observations: Sequence[JobObservation] = (),
    limits: PlanLimits | None = None,
) -> Plan:
    snap_list = [snaps] if isinstance(snaps, ProjectSnapshot) else list(snaps)
    processors = list(procs) if procs is not None else [t1_processor()]
    matches = match_snapshots_sync(snap_list, processors)
    result = plan(snap_list, matches, observations, limits or PlanLimits(), None, processors)
    # Every scenario also checks that skipping settled pairs (what a sweep does) changes nothing.
    quick = match_snapshots_sync(snap_list, processors, skip_settled=True)
    skipped = plan(snap_list, quick, observations, limits or PlanLimits(), None, processors)
    assert plan_to_dict(skipped) == plan_to_dict(result)
    return result


def kinds(p: Plan) -> list[tuple[str, str]]:
    return [(a.kind, a.task.label) for a in p.actions()]


def one_session(*assessors: Assessor, quality: str = "usable") -> ProjectSnapshot:
    return snapshot(session(scans=(scan("301", "T1w", quality=quality),), assessors=assessors))


def test_new_ready_task_is_created_and_submitted() -> None:
    """No assessor + inputs ready: create NEED_TO_RUN, then submit, with the full task."""
    p = run_plan(one_session())
    create, submit = p.actions()
    assert create.kind == "create"
    assert create.procstatus is ProcStatus.NEED_TO_RUN
    assert submit.kind == "submit"
    assert submit.assessor is None
    task = submit.task
    assert task.label == OUR_LABEL
    assert json.loads(task.inputs_json) == T1_INPUTS
    assert task.command_script == "run-fs SESS1 /INPUTS/t1.nii.gz\n"
    assert [(o.path, o.resource) for o in task.outputs] == [("stats.txt", "STATS")]
    assert task.requirements.memory_mb == 16384


def test_new_blocked_task_is_created_with_its_reason() -> None:
    """No assessor + blocked: create NEED_INPUTS with the reason; nothing submitted."""
    p = run_plan(one_session(quality="unusable"), [t1_processor(needs_qc=True)])
    (create,) = p.actions()
    assert create.kind == "create"
    assert (create.procstatus, create.reason) == (
        ProcStatus.NEED_INPUTS,
        "scan 301: quality is unusable",
    )


def test_dax_assessor_with_random_label_is_adopted() -> None:
    """A DAX-created COMPLETE assessor with the same inputs is ours: nothing is created."""
    dax = assessor("P-x-SUBJ1-x-SESS1-x-fs_v7-x-1f2e3d4c", "fs_v7", T1_INPUTS)
    assert run_plan(one_session(dax)).actions() == []


def test_dax_assessor_waiting_to_run_is_submitted_under_its_label() -> None:
    """A DAX assessor (random digits) with our inputs left NEED_TO_RUN is submitted as itself:
    job name and `{assessor}` are its label, never a second label for the same task."""
    dax = assessor("P-x-SUBJ1-x-SESS1-x-fs_v7-x-1f2e3d4c", "fs_v7", T1_INPUTS)
    dax = dax.model_copy(update={"procstatus": "NEED_TO_RUN"})
    (submit,) = run_plan(one_session(dax)).actions()
    assert (submit.kind, submit.task.label) == ("submit", dax.label)


def test_assessor_without_inputs_is_the_one_task_of_its_session() -> None:
    """An old DAX assessor without inputs, the session's only task: it is that task (no
    second assessor, no job), and the plan says so."""
    old = assessor("P-x-SUBJ1-x-SESS1-x-fs_v7-x-0a1b2c3d", "fs_v7", None, procstatus="COMPLETE")
    p = run_plan(one_session(old))
    assert p.actions() == []
    (finding,) = p.sessions[0].findings
    assert finding.label == old.label
    assert "taken as this task's" in finding.message


def test_adopted_assessor_without_inputs_runs_under_its_own_label() -> None:
    """A DAX assessor without inputs left NEED_TO_RUN is submitted as itself: its label is the
    job's name, so the next sweep follows the job it looks for."""
    old = assessor("P-x-SUBJ1-x-SESS1-x-fs_v7-x-0a1b2c3d", "fs_v7", None, procstatus="NEED_TO_RUN")
    (submit,) = run_plan(one_session(old)).actions()
    assert (submit.kind, submit.task.label, submit.assessor) == ("submit", old.label, old)


def two_t1s(*assessors: Assessor) -> ProjectSnapshot:
    scans = (scan("301", "T1w"), scan("302", "T1w"))
    return snapshot(session(scans=scans, assessors=assessors))


def test_assessor_without_inputs_among_several_tasks_blocks_them() -> None:
    """Two T1s, one DAX assessor without inputs: which task it is cannot be told, so nothing
    is created or submitted, and each task's finding names that assessor."""
    old = assessor("P-x-SUBJ1-x-SESS1-x-fs_v7-x-0a1b2c3d", "fs_v7", None)
    p = run_plan(two_t1s(old))
    assert p.actions() == []
    findings = p.sessions[0].findings
    blocked = [f for f in findings if f.message.startswith("blocked:")]
    assert len(blocked) == 2
    assert all(old.label in f.message for f in blocked)


def test_scan_labelled_assessor_without_inputs_is_that_scans_task() -> None:
    """A DAX v1/v2 label names its scan (`...-x-302-x-fs_v7`): that scan's task is it, and the
    other scan's task is created as usual."""
    old = assessor("P-x-SUBJ1-x-SESS1-x-302-x-fs_v7", "fs_v7", None)
    p = run_plan(two_t1s(old))
    (create, submit) = p.actions()
    assert create.kind == "create"
    assert dict(json.loads(create.task.inputs_json)) == {"scan_t1": scan_path("301")}
    assert submit.kind == "submit"


def test_same_reason_is_not_rewritten_new_reason_is() -> None:
    """NEED_INPUTS with the same note: no action; with a stale note: set_status."""
    same = assessor(
        OUR_LABEL,
        "fs_v7",
        T1_INPUTS,
        procstatus="NEED_INPUTS",
        note="scan 301: quality is unusable",
    )
    proc = [t1_processor(needs_qc=True)]
    assert run_plan(one_session(same, quality="unusable"), proc).actions() == []
    stale = assessor(OUR_LABEL, "fs_v7", T1_INPUTS, procstatus="NEED_INPUTS", note="old")
    (action,) = run_plan(one_session(stale, quality="unusable"), proc).actions()
    assert (action.kind, action.reason) == ("set_status", "scan 301: quality is unusable")


def test_intent_without_jobid_is_resolved_never_resubmitted() -> None:
    """JOB_RUNNING without a job id and no observation: look it up, do not submit."""
    intent = assessor(OUR_LABEL, "fs_v7", T1_INPUTS, procstatus="JOB_RUNNING")
    assert kinds(run_plan(one_session(intent))) == [("resolve_intent", OUR_LABEL)]


def test_intent_found_running_records_the_job() -> None:
    """The job named by the label is running: record its id."""
    intent = assessor(OUR_LABEL, "fs_v7", T1_INPUTS, procstatus="JOB_RUNNING")
    obs = JobObservation(OUR_LABEL, "running", job_id="42.server")
    (action,) = run_plan(one_session(intent), observations=[obs]).actions()
    assert action.kind == "record_job"
    assert action.observation.job_id == "42.server"


def test_intent_with_no_job_is_submitted_again_with_reason() -> None:
    """Looked up and no such job, no exit code: submit again, saying why."""
    intent = assessor(OUR_LABEL, "fs_v7", T1_INPUTS, procstatus="JOB_RUNNING")
    (action,) = run_plan(
        one_session(intent), observations=[JobObservation(OUR_LABEL, "gone", end_cause="lost")]
    ).actions()
    assert action.kind == "submit"
    assert action.reason == Reason.INTENT_NO_JOB.format(label=OUR_LABEL)


def test_job_exit_codes_finalize_or_fail() -> None:
    """Exit 0 finalizes; exit 3 fails with the code; vanished fails with its own reason."""
    running = assessor(OUR_LABEL, "fs_v7", T1_INPUTS, procstatus="JOB_RUNNING", jobid="7")
    snap = one_session(running)
    ok = run_plan(
        snap, observations=[JobObservation(OUR_LABEL, "completed", 0, end_cause="success")]
    )
    assert kinds(ok) == [("finalize", OUR_LABEL)]
    bad = run_plan(
        snap, observations=[JobObservation(OUR_LABEL, "completed", 3, end_cause="exit_code")]
    )
    (failed,) = bad.actions()
    assert (failed.kind, failed.reason) == ("mark_failed", "job 7 exited with code 3")
    gone = run_plan(snap, observations=[JobObservation(OUR_LABEL, "gone", end_cause="lost")])
    (vanished,) = gone.actions()
    assert vanished.reason == "job 7 ended without an exit code (killed by the scheduler?)"
    assert vanished.reason != Reason.JOB_NO_OUTPUTS


def test_running_job_is_left_alone() -> None:
    """A queued or running job, or one whose state is unknown, needs nothing."""
    running = assessor(OUR_LABEL, "fs_v7", T1_INPUTS, procstatus="JOB_RUNNING", jobid="7")
    for state in ("queued", "running", "unknown"):
        obs = [JobObservation(OUR_LABEL, state)]  # type: ignore[arg-type]
        assert run_plan(one_session(running), observations=obs).actions() == []


def test_qc_rerun_sends_task_back() -> None:
    """QC Rerun on a COMPLETE assessor: rerun (outputs removed) then submit."""
    done = assessor(OUR_LABEL, "fs_v7", T1_INPUTS, qcstatus="Rerun", resources=("STATS",))
    rerun, submit = run_plan(one_session(done)).actions()
    assert rerun.kind == "rerun"
    assert rerun.reason == "QC status set to Rerun: outputs removed, running again"
    assert submit.kind == "submit"
    assert submit.assessor == done


def test_need_to_run_by_hand_with_outputs_reruns() -> None:
    """A person set NEED_TO_RUN on an assessor with outputs: rerun by hand, then submit."""
    reset = assessor(OUR_LABEL, "fs_v7", T1_INPUTS, procstatus="NEED_TO_RUN", resources=("STATS",))
    rerun, submit = run_plan(one_session(reset)).actions()
    assert (rerun.kind, rerun.reason, submit.kind) == ("rerun", Reason.RERUN_BY_HAND, "submit")


def test_legacy_status_maps_onto_the_table() -> None:
    """The seed's JOB_COMPLETE is READY_TO_UPLOAD: finalize; XVFB_ERROR is a failure left alone."""
    legacy = assessor(OUR_LABEL, "fs_v7", T1_INPUTS, procstatus="JOB_COMPLETE", jobid="7")
    assert kinds(run_plan(one_session(legacy))) == [("finalize", OUR_LABEL)]
    xvfb = assessor(OUR_LABEL, "fs_v7", T1_INPUTS, procstatus="XVFB_ERROR", jobid="7")
    assert run_plan(one_session(xvfb)).actions() == []


def test_downstream_waits_for_upstream_with_reason() -> None:
    """The DAG: downstream is created NEED_INPUTS while its FreeSurfer input runs."""
    fs = assessor(OUR_LABEL, "fs_v7", T1_INPUTS, procstatus="JOB_RUNNING", jobid="9")
    p = run_plan(one_session(fs), [t1_processor(), downstream_processor()])
    created = [a for a in p.actions() if a.kind == "create"]
    assert [(a.task.proctype, a.reason) for a in created] == [
        ("down_v1", "assr_fs: fs_v7 is JOB_RUNNING")
    ]


def many_sessions(n: int, *, running: int = 0) -> ProjectSnapshot:
    sessions = []
    for i in range(n):
        assessors = ()
        if i < running:
            inputs = {"scan_t1": scan_path("301", sess=f"S{i}")}
            assessors = (
                assessor(
                    f"R{i}",
                    "fs_v7",
                    inputs,
                    session=f"E{i}",
                    procstatus="JOB_RUNNING",
                    jobid=str(i),
                ),
            )
        sessions.append(
            session(
                f"E{i}",
                f"S{i}",
                scans=(scan("301", "T1w"),),
                assessors=assessors,
                date=f"2024-01-{28 - i:02d}",
            )
        )
    return snapshot(*sessions)


def submitted(p: Plan) -> list[str]:
    return [a.task.session_label for a in p.actions() if a.kind == "submit"]


def test_global_limit_counts_running_jobs_and_prefers_oldest_sessions() -> None:
    """max_queued 4 with 1 job running: 3 submissions, for the 3 oldest new sessions."""
    p = run_plan(many_sessions(6, running=1), limits=PlanLimits(max_queued=4))
    assert submitted(p) == ["S5", "S4", "S3"]
    assert len(p.deferred) == 2
    assert p.in_queue == 1
    assert len([a for a in p.actions() if a.kind == "create"]) == 5


def test_another_pipelines_running_record_takes_no_place_in_the_queue() -> None:
    """A JOB_RUNNING fs_v7 record, fs_v7 not being swept: max_queued 2 gives 2 submissions."""
    other = t1_processor(proctype="t1stats_v1")
    p = run_plan(many_sessions(4, running=1), [other], limits=PlanLimits(max_queued=2))
    assert p.in_queue == 0
    assert len(submitted(p)) == 2
    assert len(p.deferred) == 2


def test_per_processor_limit_and_priority() -> None:
    """A higher-priority processor goes first; a processor's max_queued caps its own jobs."""
    high = t1_processor(proctype="hi_v1", priority=10, max_queued=2)
    low = t1_processor(proctype="lo_v1", priority=0)
    p = run_plan(many_sessions(3), [low, high], limits=PlanLimits(max_queued=4))
    order = [a.task.proctype for a in p.actions() if a.kind == "submit"]
    assert sorted(order) == ["hi_v1", "hi_v1", "lo_v1", "lo_v1"]
    assert len(p.deferred) == 2
    assert {label.split("-x-")[3] for label in p.deferred} == {"hi_v1", "lo_v1"}


def test_plan_is_pure_and_has_a_json_form() -> None:
    """Planning twice gives equal plans; the JSON form names each action's kind."""
    snap = one_session()
    assert run_plan(snap) == run_plan(snap)
    data = plan_to_dict(run_plan(snap))
    assert [a["kind"] for a in data["sessions"][0]["actions"]] == ["create", "submit"]
    assert data["sessions"][0]["actions"][0]["procstatus"] == "NEED_TO_RUN"
