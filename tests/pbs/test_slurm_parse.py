"""
squeue and sacct parsers on samples: `slurm_squeue.txt` and `slurm_sacct.txt` were recorded on
the loopback cluster (out-of-memory and walltime kills included); the `_site` samples, written
for these tests in the same format, hold what one node cannot produce (node failure,
preemption, several nodes, memory in M and G).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pbs import BadSchedulerOutput, EndCause, JobInfo, JobState, parse_sacct, parse_squeue
from pbs.slurm._squeue_sacct import first_node, slurm_duration, slurm_memory

SAMPLES = Path(__file__).parent / "samples"


def jobs(parse: object, name: str) -> dict[str, JobInfo]:
    text = (SAMPLES / name).read_text()
    assert callable(parse)
    return {info.job_id: info for info in parse(text)}


def test_squeue_recorded_ends() -> None:
    """Each recorded end reads as its cause: OOM, TIMEOUT, cancel, exit 3, SIGKILL, success."""
    found = jobs(parse_squeue, "slurm_squeue.txt")
    causes = {job_id: info.end_cause for job_id, info in found.items()}
    assert causes == {
        "31000228": EndCause.CANCELLED,
        "31000005": EndCause.SUCCESS,
        "31000229": EndCause.SUCCESS,
        "31000226": EndCause.EXIT_CODE,
        "31000231": EndCause.KILLED,
        "31000230": EndCause.MEMORY,
        "31000232": None,
        "31000004": None,
        "31000227": None,
        "31000023": EndCause.WALLTIME,
    }


def test_squeue_wait_status_is_split_into_code_and_signal() -> None:
    """768 is exit 3; 9 is SIGKILL; 253 (OOM) is signal 125; 36608 is exit 143."""
    found = jobs(parse_squeue, "slurm_squeue.txt")
    assert (found["31000226"].exit_status, found["31000226"].exit_signal) == (3, None)
    assert (found["31000231"].exit_status, found["31000231"].exit_signal) == (0, 9)
    assert (found["31000230"].exit_status, found["31000230"].exit_signal) == (0, 125)
    assert (found["31000023"].exit_status, found["31000023"].exit_signal) == (143, None)


def test_squeue_active_states_and_fields() -> None:
    """Held, waiting and running jobs are active, with no cause; host and partition read."""
    found = jobs(parse_squeue, "slurm_squeue.txt")
    assert found["31000004"].state is JobState.HELD
    assert found["31000232"].state is JobState.QUEUED
    assert found["31000232"].exec_host is None
    running = found["31000227"]
    assert (running.state, running.exec_host, running.queue) == (JobState.RUNNING, "vm", "batch")
    assert running.walltime_used == timedelta(seconds=18)
    assert running.exit_status is None


def test_squeue_name_with_a_bar_is_kept_whole() -> None:
    """A name holding the separator (another user's job, say) is read whole, not split."""
    found = jobs(parse_squeue, "slurm_squeue.txt")
    assert found["31000229"].name == "odd|name"
    assert found["31000226"].name == "PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d"


def test_squeue_site_states() -> None:
    """Node failure, preemption, boot failure, deadline; exiting, suspended, held, unknown."""
    found = jobs(parse_squeue, "slurm_squeue_site.txt")
    assert found["88123"].end_cause is EndCause.NODE_FAILURE
    assert found["88124"].end_cause is EndCause.PREEMPTED
    assert found["88125"].end_cause is EndCause.NODE_FAILURE
    assert found["88129"].end_cause is EndCause.CANCELLED
    assert found["88126"].state is JobState.EXITING
    assert found["88127"].state is JobState.SUSPENDED
    assert found["88127"].walltime_used == timedelta(days=2, hours=1)
    assert found["88128"].state is JobState.HELD
    assert found["88130"].state is JobState.RUNNING
    assert (found["88131"].state, found["88131"].end_cause) == (JobState.UNKNOWN, None)


def test_sacct_recorded_jobs() -> None:
    """Job rows give state, exit code and elapsed time; the batch step gives the memory used."""
    found = jobs(parse_sacct, "slurm_sacct.txt")
    oom = found["31000230"]
    assert (oom.end_cause, oom.exit_signal, oom.memory_used_bytes) == (
        EndCause.MEMORY,
        125,
        3216 * 1024,
    )
    assert found["31000023"].end_cause is EndCause.WALLTIME
    assert found["31000023"].walltime_used == timedelta(minutes=1, seconds=19)
    assert found["31000228"].end_cause is EndCause.CANCELLED
    assert found["31000228"].raw_state == "CANCELLED by 0"
    assert (found["31000226"].end_cause, found["31000226"].exit_status) == (EndCause.EXIT_CODE, 3)
    assert found["31000002"].end_cause is EndCause.KILLED
    assert (found["31000232"].end_cause, found["31000232"].exec_host) == (EndCause.CANCELLED, None)
    assert found["31000229"].name == "odd|name"
    assert not any("." in job_id for job_id in found)


def test_sacct_reads_a_sampled_memory_kill_as_memory() -> None:
    """OverMemoryKill (recorded): a SIGKILL at a peak over the request is memory, else killed."""
    found = jobs(parse_sacct, "slurm_sacct.txt")
    assert found["8"].raw_state == "FAILED"
    assert (found["8"].end_cause, found["8"].memory_used_bytes) == (
        EndCause.MEMORY,
        322132 * 1024,
    )
    assert found["10"].end_cause is EndCause.KILLED
    assert found["31000231"].end_cause is EndCause.KILLED


def test_sacct_usage_against_the_request() -> None:
    """Recorded on the loopback Slurm: CPU time, cores, memory and time asked, and the share
    of the cores the job kept busy (2 cores, one busy for 4 s of 4 s: 50 %)."""
    found = jobs(parse_sacct, "slurm_sacct_usage.txt")
    burn, idle = found["38000923"], found["38000924"]
    assert (burn.cpu_time, burn.cpus) == (timedelta(seconds=4), 2)
    assert burn.memory_requested_bytes == 200 * 1024**2
    assert burn.walltime_requested == timedelta(minutes=5)
    assert burn.memory_used_bytes == 170284 * 1024
    assert burn.cpu_efficiency == 0.5
    assert (idle.cpus, idle.memory_requested_bytes) == (1, 1024**3)
    assert idle.cpu_efficiency == 0.0


def test_sacct_site_jobs() -> None:
    """Peak memory over every step, in K, M and G; the first of several nodes; day-long runs."""
    found = jobs(parse_sacct, "slurm_sacct_site.txt")
    assert found["88123"].end_cause is EndCause.NODE_FAILURE
    assert found["88123"].memory_used_bytes == 6291456 * 1024
    assert found["88124"].memory_used_bytes == int(2.5 * 1024**3)
    two = found["88140"]
    assert (two.exec_host, two.memory_used_bytes) == ("cn003", 14000 * 1024**2)
    assert two.walltime_used == timedelta(days=1, hours=2, minutes=3, seconds=4)
    assert found["88141"].exec_host is None
    assert found["88141"].end_cause is EndCause.CANCELLED
    assert found["88142"].end_cause is EndCause.KILLED  # a per-CPU request is not compared


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0:00", timedelta(0)),
        ("1:19", timedelta(minutes=1, seconds=19)),
        ("03:12:09", timedelta(hours=3, minutes=12, seconds=9)),
        ("2-01:00:00", timedelta(days=2, hours=1)),
        ("00:01.500", timedelta(seconds=1)),
        ("INVALID", None),
        ("", None),
    ],
)
def test_slurm_duration(text: str, expected: timedelta | None) -> None:
    """Slurm's elapsed-time forms, days included; anything else is None."""
    assert slurm_duration(text) == expected


def test_slurm_memory_and_nodes() -> None:
    """Memory in sacct's units; a compressed node list's first node."""
    assert slurm_memory("3160K") == 3160 * 1024
    assert slurm_memory("0") == 0
    assert slurm_memory("") is None
    assert first_node("cn[003-004,009]") == "cn003"
    assert first_node("a1,a2") == "a1"
    assert first_node("None assigned") is None


def test_truncated_lines_are_reported() -> None:
    """A line with too few fields is BadSchedulerOutput, not a silently wrong job."""
    with pytest.raises(BadSchedulerOutput):
        parse_squeue("123|RUNNING|None\n")
    with pytest.raises(BadSchedulerOutput):
        parse_sacct("123|COMPLETED\n")
    assert parse_squeue("\n") == []
