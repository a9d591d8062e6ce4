"""qstat parsers on recorded samples of each format, and the job-directory status lines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pbs import BadSchedulerOutput, JobInfo, JobState, parse_json, parse_text, parse_xml
from pbs._jobdirs import parse_states

SAMPLES = Path(__file__).parent / "samples"

FINISHED_1201 = JobInfo(
    job_id="1201.torque01.example.org",
    state=JobState.COMPLETED,
    name="PROJ-x-SUBJ1-x-SESS1-x-fs7-x-0a1b2c3d",
    raw_state="C",
    queue="batch",
    exec_host="node07",
    exit_status=0,
    walltime_used=timedelta(minutes=40, seconds=12),
    memory_used_bytes=3145728 * 1024,
    cpu_time=timedelta(hours=2, minutes=10, seconds=44),
    cpus=4,  # nodes=1:ppn=4
    memory_requested_bytes=8 * 1024**3,
    walltime_requested=timedelta(hours=4),
)


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def by_id(jobs: list[JobInfo]) -> dict[str, JobInfo]:
    return {job.job_id: job for job in jobs}


def test_torque_folded_text() -> None:
    """Torque's folded `qstat -f`: every field of a finished job, and each state letter."""
    jobs = by_id(parse_text(sample("torque_qstat_f.txt")))
    assert jobs["1201.torque01.example.org"] == FINISHED_1201
    assert jobs["1202.torque01.example.org"].state is JobState.RUNNING
    assert jobs["1202.torque01.example.org"].exec_host == "node08"
    assert jobs["1203.torque01.example.org"].state is JobState.QUEUED
    assert jobs["1203.torque01.example.org"].exit_status is None
    assert jobs["1204.torque01.example.org"].state is JobState.HELD
    assert list(jobs) == [f"120{i}.torque01.example.org" for i in range(1, 5)]


def test_torque_folded_values_are_joined() -> None:
    """A value folded onto a TAB continuation line does not leak into the next attribute."""
    jobs = parse_text(sample("torque_qstat_f.txt"))
    assert jobs[0].name == "PROJ-x-SUBJ1-x-SESS1-x-fs7-x-0a1b2c3d"
    assert jobs[0].queue == "batch"


def test_torque_one_line_form() -> None:
    """`qstat -f -1`: a walltime kill's 271 and an exiting job's status are read."""
    jobs = by_id(parse_text(sample("torque_qstat_f1.txt")))
    assert jobs["1201.torque01.example.org"].exit_status == 271
    assert jobs["1205.torque01.example.org"].state is JobState.EXITING
    assert jobs["1205.torque01.example.org"].exit_status == 3


def test_torque_xml() -> None:
    """Torque's `qstat -x` XML yields the same JobInfo as the text form."""
    jobs = by_id(parse_xml(sample("torque_qstat_x.xml")))
    # recorded without Resource_List.mem: the one field the text form has and it has not
    assert jobs["1201.torque01.example.org"] == replace(FINISHED_1201, memory_requested_bytes=None)
    assert jobs["1203.torque01.example.org"].state is JobState.QUEUED


def test_pbspro_json() -> None:
    """PBS Pro JSON: F is completed, numeric names become strings, -29 is kept as reported."""
    jobs = by_id(parse_json(sample("pbspro_qstat_json.json")))
    first = jobs["5501.pbs01"]
    assert (first.state, first.exit_status, first.exec_host) == (JobState.COMPLETED, 0, "node07")
    assert first.walltime_used == timedelta(minutes=40, seconds=12)
    assert first.memory_used_bytes == 3145728 * 1024
    # what it used of what it asked: 2:10:44 of CPU on 4 cores over 40:12 is 81 %
    assert (first.cpu_time, first.cpus) == (timedelta(hours=2, minutes=10, seconds=44), 4)
    assert first.walltime_requested == timedelta(hours=4)
    assert first.cpu_efficiency is not None
    assert round(first.cpu_efficiency, 2) == 0.81
    assert jobs["5502.pbs01"].name == "123"
    assert jobs["5502.pbs01"].exit_status == -29
    assert jobs["5502.pbs01"].memory_used_bytes == 2 * 1024**3
    assert jobs["5503.pbs01"].exec_host == "node01"
    assert jobs["5504.pbs01"].state is JobState.SUSPENDED


def test_pbspro_text_fallback_matches_json() -> None:
    """PBS Pro's `qstat -f -w` text gives the same jobs as its JSON for the same data."""
    text = by_id(parse_text(sample("pbspro_qstat_fw.txt")))
    json_jobs = by_id(parse_json(sample("pbspro_qstat_json.json")))
    assert text["5501.pbs01"] == json_jobs["5501.pbs01"]
    assert text["5502.pbs01"] == json_jobs["5502.pbs01"]


def test_loopback_wrapper_text() -> None:
    """The Slurm wrappers' TAB-indented form, with no exit_status and no resources_used."""
    jobs = by_id(parse_text(sample("loopback_qstat_f.txt")))
    assert jobs["6"] == JobInfo(
        job_id="6",
        state=JobState.COMPLETED,
        name="probe1",
        raw_state="C",
        queue="batch",
        exec_host="vm",
        cpus=1,
        walltime_requested=timedelta(minutes=1),
    )
    assert jobs["7"].state is JobState.QUEUED


@pytest.mark.parametrize("parser", [parse_text, parse_xml, parse_json])
def test_empty_output_means_no_jobs(parser: object) -> None:
    """An empty answer (every id unknown, or an empty queue) is no jobs, not an error."""
    assert parser("") == []  # type: ignore[operator]


@pytest.mark.parametrize(
    ("parser", "text"),
    [(parse_text, "qstat: some error\n"), (parse_xml, "<Data><Job>"), (parse_json, "{oops")],
)
def test_garbage_raises_bad_scheduler_output(parser: object, text: str) -> None:
    """Output that is not the expected format raises BadSchedulerOutput with an excerpt."""
    with pytest.raises(BadSchedulerOutput):
        parser(text)  # type: ignore[operator]


def test_status_lines_pair_with_names() -> None:
    """Each status line maps to its name; missing values are None, times are UTC."""
    output = (
        "1 1700000000. 0. 1700000060. . 42.\n0 . . . . .\n1 1700000000. . 1700000099. TERM. .\n"
    )
    states = parse_states(output, ["done", "missing", "killed"])
    assert states["done"].exit_code == 0
    assert (states["done"].cpu_seconds, states["killed"].cpu_seconds) == (42, None)
    assert states["done"].started == datetime.fromtimestamp(1700000000, tz=UTC)
    assert states["missing"].exists is False
    assert states["missing"].ended is False
    assert states["killed"].exit_code is None
    assert states["killed"].signal == "TERM"
    assert states["killed"].ended is True


def test_status_line_count_mismatch_is_an_error() -> None:
    """A truncated answer is reported, never paired with the wrong names."""
    with pytest.raises(BadSchedulerOutput):
        parse_states("1 . . . .\n", ["a", "b"])
