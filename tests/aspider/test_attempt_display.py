"""
Every ended job's record heads its note: the people reading a failure see its reason, and a
COMPLETE task's record is not read as a retry standing.
"""

from __future__ import annotations

from datetime import date

from aspider.plan.explain import retry_outlook
from aspider.plan.retry import Attempt, Attempts, Usage, with_head
from aspider.serve.status import project_status
from tests.aspider.procs import t1_processor
from tests.aspider.snapshots import assessor, session, snapshot

RECORD = Attempts((Attempt(1, 256, 300, "9", "exit_code", Usage(120, 30)),))


def test_a_failure_is_shown_by_its_reason_not_its_record() -> None:
    note = with_head(RECORD, "job 9 exited with code 3; job directory: /w/L1; log: boom")
    failed = assessor("L1", "fs_v7", None, procstatus="JOB_FAILED", note=note)
    status = project_status(
        snapshot(session(assessors=(failed,))),
        ["fs_v7"],
        link_base="http://xnat",
        today=date(2026, 12, 7),
        taken_at="now",
    )
    (line,) = status.attention
    assert line.reason == "job 9 exited with code 3; job directory: /w/L1; log: boom"


def test_a_complete_task_has_no_retry_outlook() -> None:
    done = Attempts((Attempt(1, 256, 300, "9", "success", Usage(120, 30)),))
    complete = assessor("L1", "fs_v7", None, note=with_head(done, ""))
    assert retry_outlook(complete, t1_processor(retry="{attempts: 2}")) is None
    running = assessor(
        "L1", "fs_v7", None, procstatus="JOB_FAILED", note=with_head(RECORD, "exited")
    )
    outlook = retry_outlook(running, t1_processor(retry="{attempts: 2, on: [exit_code]}"))
    assert outlook is not None
    assert (outlook.attempt, outlook.attempts) == (1, 2)
