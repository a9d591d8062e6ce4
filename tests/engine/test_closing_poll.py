"""Which ended jobs a poll asks about again: those whose use the scheduler has not written yet."""

from __future__ import annotations

from datetime import timedelta

from aspider.run.backends.scheduler import _unaccounted
from pbs import JobInfo, JobState

MB = 2**20


def test_a_job_row_before_its_steps_is_not_yet_accounted_where_memory_is() -> None:
    """Slurm writes the job's row (its CPU time 0) before the steps that hold its memory."""
    row_only = JobInfo("7", JobState.COMPLETED, cpu_time=timedelta(0))
    assert _unaccounted(row_only, lags=True, memory=True)
    assert not _unaccounted(row_only, lags=True, memory=False)  # a site accounting no memory
    whole = JobInfo("7", JobState.COMPLETED, cpu_time=timedelta(0), memory_used_bytes=150 * MB)
    assert not _unaccounted(whole, lags=True, memory=True)


def test_a_forgotten_job_is_never_waited_for_and_a_running_one_always() -> None:
    assert not _unaccounted(JobInfo("7", JobState.GONE), lags=True, memory=True)
    assert _unaccounted(JobInfo("7", JobState.RUNNING), lags=False, memory=False)
    assert not _unaccounted(JobInfo("7", JobState.COMPLETED), lags=False, memory=True)
