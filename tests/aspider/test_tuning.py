"""
Right-sizing, pure: what jobs used against what they asked, the suggestion and its safety
rails, and the planner asking for it when a processor says `requirements: tune`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from aspider.plan import PlanLimits
from aspider.plan.actions import JobObservation, Submit
from aspider.plan.retry import Attempt, Attempts, Usage, read_attempts, with_head
from aspider.plan.tuning import (
    JobRecord,
    Request,
    Suggestion,
    job_records,
    memused_mb,
    records_of,
    since,
    usage,
)
from aspider.processors import Processor, RetryPolicy, TunePolicy, parse_processor_text
from tests.aspider.procs import _T1
from tests.aspider.snapshots import assessor, scan, session, snapshot
from tests.aspider.test_planner import OUR_LABEL, T1_INPUTS, run_plan

REQUEST = Request.of(1024, 3600, RetryPolicy())


def _ok(mb: int, seconds: int = 120, *, cause: str = "success", asked: int = 1024) -> JobRecord:
    return JobRecord(f"t{mb}", cause, asked, 3600, Usage(mb, seconds, seconds // 2, 1))


def test_jobs_using_150mb_of_1gb_are_offered_256mb() -> None:
    """p95 150-157 MB x 1.2, up to a 128 MB step: 256 MB; 120 s x 1.5, up to 5 min."""
    found = usage("x_v1", [_ok(150 + i) for i in range(8)], REQUEST, TunePolicy())
    assert found.memory_used is not None
    assert (found.memory_used.p50, found.memory_used.p95, found.memory_used.max) == (153, 157, 157)
    assert found.cpu_efficiency == 0.5
    s = found.suggestion
    assert s is not None
    assert (s.memory_mb, s.walltime_seconds, s.from_jobs, s.would_have_killed) == (256, 300, 8, 0)
    # (1024 - 256) MB for two minutes, a hundred times: 150 GB-minutes
    assert round(s.saved_gb_hours_per_100, 2) == round(768 / 1024 * 120 / 3600 * 100, 2)
    assert round(found.wasted_gb_hours, 4) == round(
        sum((1024 - 150 - i) / 1024 * 120 / 3600 for i in range(8)), 4
    )


def test_too_few_jobs_leave_the_processor_s_own_request() -> None:
    found = usage("x_v1", [_ok(150)] * 4, REQUEST, TunePolicy())
    assert found.suggestion is None
    assert "4 successful job(s)" in found.why_none
    assert "fewer than the 5" in found.why_none
    assert usage("x_v1", [_ok(150)] * 4, REQUEST, TunePolicy(min_jobs=4)).suggestion is not None


def test_a_memory_kill_raises_the_floor_above_its_request() -> None:
    """A job killed at 256 MB needed more: the next suggestion is above it, whatever p95 says."""
    killed = replace(_ok(256, cause="memory", asked=256), used=Usage(256, 10))
    found = usage("x_v1", [*[_ok(150)] * 5, killed], REQUEST, TunePolicy())
    assert found.suggestion is not None
    assert found.suggestion.memory_mb == 384
    assert found.failures == {"memory": 1}


def test_never_above_the_retry_policy_s_maximum() -> None:
    capped = Request.of(1024, 3600, RetryPolicy(max_memory="1G", max_walltime="00:10:00"))
    found = usage("x_v1", [_ok(900, 500)] * 5, capped, TunePolicy())
    assert found.suggestion is not None
    assert (found.suggestion.memory_mb, found.suggestion.walltime_seconds) == (1024, 600)


def test_records_come_from_the_attempt_record_else_the_fields() -> None:
    head = Attempts(
        (
            Attempt(1, 256, 600, "7", "memory", Usage(260, 30), memory_tuned_from=6),
            Attempt(2, 512, 600, "8", "success", Usage(300, 90, 80, 1)),
        )
    )
    ours = assessor("L1", "x_v1", None, note=with_head(head, ""))
    ours = ours.model_copy(update={"jobstartdate": "2026-12-01"})
    dax = assessor("L2", "x_v1", None).model_copy(
        update={"memused": "2.5 GB", "walltimeused": "1-01:02:03"}
    )
    odd = assessor("L3", "x_v1", None).model_copy(update={"memused": "1234"})  # no unit
    first, second = records_of(ours)
    assert (first.cause, first.asked_memory_mb, first.tuned_from) == ("memory", 256, 6)
    assert (second.cause, second.used) == ("success", Usage(300, 90, 80, 1))
    (old,) = records_of(dax)
    assert old.used == Usage(2560, 90123)
    assert old.asked_memory_mb is None
    assert records_of(odd) == []
    assert (memused_mb("150 MB"), memused_mb("3160K"), memused_mb("12")) == (150, 4, None)
    recent = since([first, old], 7, date(2026, 12, 7))
    assert recent == [first]  # the DAX result has no start date


def _tuned_processor(retry: str = "{}") -> Processor:
    text = "requirements: {memory: 4G, walltime: '0-2', tune: [memory]}\n" + _T1.format(
        level="session",
        needs_qc="false",
        skip_unusable="false",
        keep_multis="all",
        priority=0,
    )
    spec = parse_processor_text(f"retry: {retry}\n{text}", "fs_v7.yaml")
    return Processor(spec, proctype="fs_v7", procversion="7.0.0")


def _history(n: int) -> list[object]:
    """Sessions with COMPLETE fs_v7 results that each used 150 MB of 4 GB."""
    done = Attempts((Attempt(1, 4096, 7200, "9", "success", Usage(150, 600)),))
    return [
        session(
            f"H{i}",
            f"OLD{i}",
            assessors=(assessor(f"OLD{i}-fs", "fs_v7", None, note=with_head(done, "")),),
        )
        for i in range(n)
    ]


def test_a_processor_that_asks_is_submitted_with_the_suggestion_and_says_so() -> None:
    new = session(scans=(scan("301", "T1w"),))
    plan = run_plan(snapshot(new, *_history(6)), [_tuned_processor()])  # type: ignore[arg-type]
    (submit,) = [a for a in plan.actions() if isinstance(a, Submit)]
    assert submit.task.requirements.memory_mb == 256
    assert submit.task.requirements.walltime_seconds == 7200  # walltime not asked to be tuned
    assert submit.task.attempts == Attempts((Attempt(1, 256, 7200, memory_tuned_from=6),))
    assert dict(plan.suggestions)["fs_v7"] is not None
    few = run_plan(snapshot(new, *_history(4)), [_tuned_processor()])  # type: ignore[arg-type]
    (own,) = [a for a in few.actions() if isinstance(a, Submit)]
    assert (own.task.requirements.memory_mb, own.task.attempts) == (4096, None)


def test_a_chained_plan_takes_the_sweep_s_suggestion() -> None:
    """One session alone has no history; the sweep's suggestion, passed in, still holds."""
    given = Suggestion(384, None, 9, 0, 0.0)
    limits = PlanLimits(suggestions=(("fs_v7", given),))
    plan = run_plan(
        snapshot(session(scans=(scan("301", "T1w"),))), [_tuned_processor()], (), limits
    )
    (submit,) = [a for a in plan.actions() if isinstance(a, Submit)]
    assert submit.task.attempts == Attempts((Attempt(1, 384, 7200, memory_tuned_from=9),))


def test_a_tuned_job_killed_for_memory_is_retried_with_more() -> None:
    """Attempt 1 asked the tuned 256 MB and was killed for it: attempt 2 asks 512 MB."""
    retrying = _tuned_processor("{attempts: 2}")
    note = with_head(Attempts((Attempt(1, 256, 7200, memory_tuned_from=6),)), "")
    a = assessor(OUR_LABEL, "fs_v7", T1_INPUTS, procstatus="JOB_RUNNING", jobid="7", note=note)
    obs = JobObservation(OUR_LABEL, "completed", 137, job_id="7", end_cause="memory")
    plan = run_plan(
        snapshot(session(scans=(scan("301", "T1w"),), assessors=(a,))), [retrying], [obs]
    )
    (submit,) = [x for x in plan.actions() if isinstance(x, Submit)]
    record = read_attempts(with_head(submit.task.attempts, ""))
    assert record is not None
    first, second = record.entries
    assert (first.memory_mb, first.memory_tuned_from, first.cause) == (256, 6, "memory")
    assert second.memory_mb == 512
    assert job_records([snapshot(session(assessors=(a,)))], "fs_v7") == []  # still under way
