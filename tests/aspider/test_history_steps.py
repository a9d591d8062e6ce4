"""Which step each status write is, what its entry says, and entry times that never collide."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from aspider.plan import ProcStatus
from aspider.run.records.workflow_history import Step, entry, step_of
from xnat_client import AssessorFields


@pytest.mark.parametrize(
    ("fields", "created", "step"),
    [
        (AssessorFields(procstatus="NEED_INPUTS", note="no T1"), True, Step.CREATED),
        (AssessorFields(procstatus="NEED_TO_RUN", note=""), True, Step.CREATED),
        (AssessorFields(procstatus="JOB_RUNNING", jobid=""), True, None),  # the intent
        (AssessorFields(procstatus="JOB_RUNNING", jobid=""), False, None),
        (AssessorFields(procstatus="JOB_RUNNING", jobid="17"), False, Step.SUBMITTED),
        (AssessorFields(procstatus="NEED_INPUTS", note="no T1"), False, Step.WAITING),
        (AssessorFields(procstatus="NEED_TO_RUN", note=""), False, Step.READY),
        (AssessorFields(procstatus="NEED_TO_RUN", note="not sent"), False, Step.HELD),
        (AssessorFields(procstatus="JOB_FAILED", note="code 3"), False, Step.FAILED),
        (AssessorFields(procstatus="UPLOADING", note=""), False, Step.UPLOADING),
        (AssessorFields(procstatus="UPLOADING", note="upload failed"), False, Step.HELD),
        (AssessorFields(procstatus="COMPLETE", qcstatus="Needs QA"), False, Step.COMPLETE),
        (AssessorFields(jobid="17", jobnode="n1"), False, Step.ADOPTED),
        (AssessorFields(qcstatus="Passed"), False, None),
    ],
)
def test_each_write_the_executor_makes_is_one_step_or_none(
    fields: AssessorFields, created: bool, step: Step | None
) -> None:
    """The step is read from what a write sets; the intent and a QC edit are none."""
    assert step_of(fields, created=created) == step


def test_an_entry_speaks_xnat_s_words_and_keeps_a_long_reason_whole_in_comments() -> None:
    """A failure: XNAT's Failed, the procstatus as step id, the reason without its log tail."""
    reason = "job 9 exited with code 137; log: " + "x" * 400
    failed = entry("fs7_v1", "P1", "XNAT_E1", Step.FAILED, ProcStatus.JOB_FAILED, note=reason)
    assert (failed.status, failed.step_id, failed.pipeline_name) == (
        "Failed",
        "JOB_FAILED",
        "fs7_v1",
    )
    assert (failed.experiment_id, failed.project, failed.data_type) == (
        "XNAT_E1",
        "P1",
        "proc:genProcData",
    )
    assert failed.step_description == "failed: job 9 exited with code 137"  # no log tail
    assert failed.comments == reason
    waiting = entry("fs7_v1", "P1", "XNAT_E1", Step.CREATED, ProcStatus.NEED_INPUTS, note="no T1")
    assert (waiting.status, waiting.step_description) == (
        "Awaiting Action",
        "created, waiting for inputs: no T1",
    )
    assert waiting.comments == ""  # the whole reason is in the description already


def test_entry_times_of_one_assessor_never_repeat() -> None:
    """The same moment twice, or a job start before the last entry: each 1 ms after the last."""
    moment = datetime(2030, 1, 1, 12, 0, 0, 123456)
    first = entry("p", "P", "XNAT_T1", Step.SUBMITTED, ProcStatus.JOB_RUNNING, when=moment)
    again = entry("p", "P", "XNAT_T1", Step.RUNNING, ProcStatus.JOB_RUNNING, when=moment)
    earlier = moment - timedelta(seconds=1)
    start = entry("p", "P", "XNAT_T1", Step.RUNNING, ProcStatus.JOB_RUNNING, when=earlier)
    other = entry("p", "P", "XNAT_T2", Step.SUBMITTED, ProcStatus.JOB_RUNNING, when=moment)
    ms = timedelta(milliseconds=1)
    assert first.launch_time == datetime(2030, 1, 1, 12, 0, 0, 123000)
    assert again.launch_time == first.launch_time + ms
    assert start.launch_time == first.launch_time + 2 * ms
    assert other.launch_time == first.launch_time
