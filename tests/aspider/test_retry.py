"""
Why a job ended, and retries: one reason per cause, the retry policy's decisions, the attempts
recorded at the head of `note` and read back from the snapshot, and the crash cases.
"""

from __future__ import annotations

import typing

import pytest

from aspider.plan import PlanLimits
from aspider.plan.actions import JobEnd, JobObservation, MarkFailed, Submit
from aspider.plan.retry import (
    Attempt,
    Attempts,
    first_attempt,
    next_attempt,
    read_attempts,
    with_head,
    without_head,
)
from aspider.processors import RetryCause, RetryPolicy
from pbs import EndCause
from tests.aspider.procs import t1_processor
from tests.aspider.snapshots import assessor
from tests.aspider.test_planner import OUR_LABEL, T1_INPUTS, kinds, one_session, run_plan

RETRY_TWICE = "{attempts: 3, on: [memory, walltime], max_memory: 40G}"
BASE_MB, BASE_SECONDS = 16 * 1024, 2 * 3600  # t1_processor's DAX defaults: 16G, 0-2


def running(jobid: str = "7", note: str = "", status: str = "JOB_RUNNING") -> object:
    return assessor(OUR_LABEL, "fs_v7", T1_INPUTS, procstatus=status, jobid=jobid, note=note)


def ended(cause: JobEnd, job_id: str = "7", exit_code: int | None = None) -> JobObservation:
    return JobObservation(OUR_LABEL, "completed", exit_code, job_id=job_id, end_cause=cause)


def test_the_cause_vocabularies_agree() -> None:
    """JobObservation's causes are pbs.EndCause's, and a policy may name every one but success."""
    causes = {c.value for c in EndCause}
    assert set(typing.get_args(JobEnd)) == causes
    assert set(typing.get_args(RetryCause)) == causes - {"success"}


def test_the_record_reads_back_as_written() -> None:
    """Attempts -> note head -> attempts, with the reason after it; no head: no record."""
    record = Attempts(
        (Attempt(1, 2048, 3600, "4711", "memory"), Attempt(2, 0, 5400, "4712.pbs01", "walltime"))
    ).then(Attempt(3, 4096, 8100))
    note = with_head(record, "job 4712.pbs01 was killed at its walltime limit (01:30:00)")
    assert note.startswith(
        "[attempt 1: 2048 MB, 01:00:00, job 4711, memory; "
        "attempt 2: - MB, 01:30:00, job 4712.pbs01, walltime; attempt 3: 4096 MB, 02:15:00] "
    )
    assert read_attempts(note) == record
    assert without_head(note) == "job 4712.pbs01 was killed at its walltime limit (01:30:00)"
    assert read_attempts("job 7 exited with code 3") is None
    assert read_attempts("[attempt 2: 1 MB, 00:01:00] numbered from 2") is None
    assert with_head(record, note) == note  # an older head is replaced, not repeated


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        ("memory", Attempt(2, 4096, 3600)),
        ("walltime", Attempt(2, 2048, 5400)),
        ("node_failure", Attempt(2, 2048, 3600)),
        ("exit_code", None),
    ],
)
def test_next_attempt_scales_what_the_cause_calls_for(cause: str, expected: Attempt) -> None:
    """Memory kill: memory x2; walltime kill: walltime x1.5; node failure: the same; not in on."""
    policy = RetryPolicy(attempts=3, on=("memory", "walltime", "node_failure"))
    assert next_attempt(policy, Attempt(1, 2048, 3600), cause) == expected


def test_next_attempt_stops_at_the_maximum_and_the_last_attempt() -> None:
    """Capped at max_memory; at the cap, or out of attempts, it says why there is none."""
    policy = RetryPolicy(attempts=3, max_memory="3G", max_walltime="01:00:00")
    assert next_attempt(policy, Attempt(1, 2048, 3600), "memory") == Attempt(2, 3072, 3600)
    assert next_attempt(policy, Attempt(2, 3072, 3600), "memory") == (
        "its memory request is at the maximum (3072 MB)"
    )
    assert next_attempt(policy, Attempt(1, 2048, 3600), "walltime") == (
        "its walltime is at the maximum (01:00:00)"
    )
    assert next_attempt(policy, Attempt(3, 1024, 60), "memory") == "no attempt left (3 of 3)"


def test_processor_policy_wins_field_by_field_and_reads_yaml_on() -> None:
    """`on:` (YAML's boolean key) is read; the processor's fields win, the site's fill the rest."""
    spec = t1_processor(retry="{on: [preempted], memory_factor: 3}").spec
    assert spec.retry is not None
    site = RetryPolicy(attempts=4, memory_factor=2, max_memory="64G")
    assert spec.retry.over(site) == RetryPolicy(
        attempts=4, on=("preempted",), memory_factor=3, max_memory="64G"
    )


def test_each_cause_is_its_own_reason() -> None:
    """Without a retry policy, every way a job can end without success is a distinct note."""
    reasons = {}
    for cause in typing.get_args(JobEnd):
        if cause == "success":
            continue
        code = 3 if cause == "exit_code" else None
        plan = run_plan(one_session(running()), observations=[ended(cause, exit_code=code)])
        (action,) = plan.actions()
        assert isinstance(action, MarkFailed), cause
        reasons[cause] = action.reason
    assert len(set(reasons.values())) == len(reasons)
    assert reasons["memory"] == (
        "job 7 was killed for using more memory than it asked for (16384 MB)"
    )
    assert reasons["walltime"] == "job 7 was killed at its walltime limit (02:00:00)"
    assert reasons["exit_code"] == "job 7 exited with code 3"


def test_memory_kill_is_retried_with_twice_the_memory() -> None:
    """attempts left: a retry submission, memory doubled, both attempts in the task's record."""
    procs = [t1_processor(retry=RETRY_TWICE)]
    (action,) = run_plan(one_session(running()), procs, [ended("memory", exit_code=137)]).actions()
    assert isinstance(action, Submit)
    assert action.retry
    assert action.task.requirements.memory_mb == 2 * BASE_MB
    assert action.task.requirements.walltime_seconds == BASE_SECONDS
    assert action.task.attempts == Attempts(
        (Attempt(1, BASE_MB, BASE_SECONDS, "7", "memory"), Attempt(2, 2 * BASE_MB, BASE_SECONDS))
    )
    assert action.reason == (
        "job 7 was killed for using more memory than it asked for (16384 MB); "
        "submitted again as attempt 2 of 3 (32768 MB, 02:00:00)"
    )


def test_site_default_policy_applies_to_every_processor() -> None:
    """No retry: in the processor, the settings' retry: decides."""
    limits = PlanLimits(retry=RetryPolicy(attempts=2))
    p = run_plan(one_session(running()), None, [ended("walltime")], limits)
    (action,) = p.actions()
    assert isinstance(action, Submit)
    assert action.task.requirements.walltime_seconds == BASE_SECONDS * 3 // 2


def test_a_second_memory_kill_with_no_attempt_left_fails_with_every_cause() -> None:
    """Attempt 3 (at max_memory) killed again: JOB_FAILED, each attempt's job and cause kept."""
    head = (
        f"[attempt 1: {BASE_MB} MB, 02:00:00, job 5, memory; "
        f"attempt 2: 32768 MB, 02:00:00, job 6, memory; attempt 3: 40960 MB, 02:00:00]"
    )
    procs = [t1_processor(retry=RETRY_TWICE)]
    snap = one_session(running("7", f"{head} ..."))
    (action,) = run_plan(snap, procs, [ended("memory")]).actions()
    assert isinstance(action, MarkFailed)
    assert action.task.attempts is not None
    assert [(a.job_id, a.cause) for a in action.task.attempts.entries] == [
        ("5", "memory"),
        ("6", "memory"),
        ("7", "memory"),
    ]
    assert action.task.requirements.memory_mb == 40960
    assert action.reason == (
        "job 7 was killed for using more memory than it asked for (40960 MB); "
        "not submitted again: no attempt left (3 of 3)"
    )


def test_intent_that_finds_only_the_earlier_attempt_is_submitted_again() -> None:
    """Killed between the retry's intent and sbatch: by name only job 7 (attempt 1) is found."""
    head = f"[attempt 1: {BASE_MB} MB, 02:00:00, job 7, memory; attempt 2: 32768 MB, 02:00:00]"
    intent = running("", f"{head} job 7 was killed ...")
    procs = [t1_processor(retry=RETRY_TWICE)]
    (action,) = run_plan(one_session(intent), procs, [ended("memory")]).actions()
    assert isinstance(action, Submit)
    assert action.task.requirements.memory_mb == 32768
    assert action.task.attempts == read_attempts(head)
    newer = JobObservation(OUR_LABEL, "running", job_id="8")
    assert kinds(run_plan(one_session(intent), procs, [newer])) == [("record_job", OUR_LABEL)]


def test_retry_not_sent_is_submitted_again_with_its_request() -> None:
    """NEED_TO_RUN with a record (the retry never reached the cluster): attempt 2's request."""
    head = f"[attempt 1: {BASE_MB} MB, 02:00:00, job 7, memory; attempt 2: 32768 MB, 02:00:00]"
    waiting = running("", f"{head} submission did not reach the scheduler", "NEED_TO_RUN")
    (action,) = run_plan(one_session(waiting), [t1_processor(retry=RETRY_TWICE)]).actions()
    assert isinstance(action, Submit)
    assert action.task.requirements.memory_mb == 32768
    assert action.task.attempts is not None


def test_success_after_a_retry_closes_the_record_and_a_rerun_starts_afresh() -> None:
    """Attempt 2 exits 0: finalize with both attempts; QC Rerun of it: a task with no record."""
    head = f"[attempt 1: {BASE_MB} MB, 02:00:00, job 7, memory; attempt 2: 32768 MB, 02:00:00]"
    snap = one_session(running("8", f"{head} job 7 was ..."))
    plan = run_plan(snap, [t1_processor(retry=RETRY_TWICE)], [ended("success", "8", 0)])
    (action,) = plan.actions()
    assert action.kind == "finalize"
    assert action.task.attempts is not None
    assert action.task.attempts.current == Attempt(2, 32768, BASE_SECONDS, "8", "success")
    done = assessor(
        OUR_LABEL, "fs_v7", T1_INPUTS, qcstatus="Rerun", resources=("STATS",), note=head
    )
    rerun, submit = run_plan(one_session(done), [t1_processor(retry=RETRY_TWICE)]).actions()
    assert (rerun.kind, submit.kind) == ("rerun", "submit")
    assert rerun.task.attempts is None
    assert submit.task.requirements.memory_mb == BASE_MB


def test_first_attempt_record_starts_from_the_processor_request() -> None:
    """first_attempt: attempt 1 with the request as the processor states it."""
    assert first_attempt(100, 60).current == Attempt(1, 100, 60)


def test_an_exit_the_scheduler_has_not_explained_yet_waits_and_holds_its_place() -> None:
    """Exit 137 while Slurm still lists the job: no action yet (an OOM verdict may follow)."""
    unsettled = JobObservation(OUR_LABEL, "running", 137, job_id="7", end_cause=None)
    p = run_plan(one_session(running()), [t1_processor(retry=RETRY_TWICE)], [unsettled])
    assert p.actions() == []
    assert p.in_queue == 1
