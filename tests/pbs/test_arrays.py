"""
Job arrays without a cluster: element ids, the submit commands of Slurm, PBS Pro and Torque,
the dispatcher, the payload, and squeue/sacct/qstat output with elements. The Slurm samples
were recorded on the loopback cluster (`slurm_*_array.txt`); the PBS ones (`pbspro_qstat_t_json`,
`torque_qstat_t_f1`) were written for these tests from the PBS Pro and Torque manuals.
"""

from __future__ import annotations

import io
import tarfile
from datetime import timedelta
from pathlib import Path, PurePosixPath

import pytest

from pbs import (
    PBSPRO,
    TORQUE,
    ArraySpec,
    EndCause,
    InvalidValue,
    JobSpec,
    JobState,
    JobTemplate,
    array_of,
    check_job_id,
    element_ids,
    parse_json,
    parse_sacct,
    parse_squeue,
    parse_text,
)
from pbs._arrays import dispatcher, expand_elements, payload
from pbs._names import element_rank
from pbs._rate import CommandRate
from pbs.slurm._sbatch_script import render_slurm_script, sbatch_array_argv

SAMPLES = Path(__file__).parent / "samples"
ROOT = PurePosixPath("/work/root")


def _spec(name: str, memory_mb: int = 128) -> JobSpec:
    return JobSpec(
        name=name,
        job_dir=ROOT / name,
        command=f"echo {name}",
        memory_mb=memory_mb,
        walltime=timedelta(minutes=5),
        hold=True,
    )


def _array(count: int = 3, parallel: int | None = None) -> ArraySpec:
    return ArraySpec(
        name="P-x-fs7-x-0a1b2c3d",
        array_dir=ROOT / ".arrays" / "P-x-fs7-x-0a1b2c3d",
        elements=tuple(_spec(f"t{i}") for i in range(count)),
        parallel=parallel,
        hold=True,
    )


def test_element_ids_follow_the_schedulers_forms() -> None:
    """Slurm's `123` gives `123_i`; PBS's `123[].server`, `123[i].server`."""
    assert element_ids("123", 3) == ["123_0", "123_1", "123_2"]
    assert element_ids("123;cluster", 2) == ["123_0", "123_1"]
    assert element_ids("7001[].pbs01", 2) == ["7001[0].pbs01", "7001[1].pbs01"]


def test_an_answer_that_is_no_array_id_is_refused() -> None:
    """An answer neither form reads is an error, never an invented id."""
    with pytest.raises(InvalidValue):
        element_ids("123.server", 2)
    with pytest.raises(InvalidValue):
        element_ids("Submitted batch job 5", 2)


def test_element_ids_are_job_ids_and_name_their_array() -> None:
    """Elements pass the job id check; `array_of` names the array they belong to."""
    for job_id in ("123_7", "123[7]", "123[7].pbs01", "123[].pbs01"):
        assert check_job_id(job_id) == job_id
    assert [array_of(j) for j in ("123_7", "123[7].pbs01", "123", "55.s")] == [
        "123",
        "123[].pbs01",
        "123",
        "55.s",
    ]
    assert element_rank("123_10") > element_rank("123_9") > element_rank("122_50")


def test_sacct_compressed_pending_elements_expand() -> None:
    """`123_[0,2-4%2]` is elements 0, 2, 3 and 4; any other id stays as it is."""
    assert expand_elements("123_[0,2-4%2]") == ["123_0", "123_2", "123_3", "123_4"]
    assert expand_elements("123_7") == ["123_7"]


def test_elements_must_share_one_request() -> None:
    """An element asking for other memory cannot join the array."""
    with pytest.raises(ValueError, match="other resources"):
        ArraySpec(
            name="a",
            array_dir=ROOT / ".arrays" / "a",
            elements=(_spec("t0"), _spec("t1", memory_mb=256)),
        )


def test_sbatch_array_command() -> None:
    """Held, `--array=0-2%2`, the array's name and directory, each element's output apart."""
    argv = sbatch_array_argv(_array(parallel=2))
    adir = ROOT / ".arrays" / "P-x-fs7-x-0a1b2c3d"
    assert argv == [
        "sbatch",
        "--parsable",
        "--hold",
        "--array=0-2%2",
        "--job-name=P-x-fs7-x-0a1b2c3d",
        f"--output={adir}/scheduler.%a.log",
        f"--chdir={adir}",
        "--nodes=1",
        "--ntasks=1",
        "--cpus-per-task=1",
        "--time=00:05:00",
        "--mem=128M",
        "--no-requeue",
        f"{adir}/array.sh",
    ]


def test_pbspro_and_torque_array_commands() -> None:
    """PBS Pro `qsub -h -J 0-2` (output per `^array_index^`); Torque `qsub -h -t 0-2%2`."""
    adir = ROOT / ".arrays" / "P-x-fs7-x-0a1b2c3d"
    pro = PBSPRO.qsub_array_argv(_array())
    assert pro[:4] == ["qsub", "-h", "-J", "0-2"]
    assert pro[pro.index("-o") + 1] == f"{adir}/scheduler.^array_index^.log"
    assert "select=1:ncpus=1:mem=128mb" in pro
    assert pro[-1] == f"{adir}/array.sh"
    torque = TORQUE.qsub_array_argv(_array(parallel=2))
    assert torque[:4] == ["qsub", "-h", "-t", "0-2%2"]
    assert torque[torque.index("-o") + 1] == f"{adir}/scheduler.log"
    assert "nodes=1:ppn=1,mem=128mb,walltime=00:05:00" in torque


def test_dispatcher_keeps_a_templates_directives_and_runs_the_elements_own_script() -> None:
    """The array script carries the first element's leading directives (a template's too),
    not its commands, and runs element i's job.sh with the interpreter of its `#!` line."""
    template = JobTemplate("#!/bin/bash\n#SBATCH --gres=gpu:1\nmodule load fsl\n${job_cmds}\n")
    first = render_slurm_script(_spec("t0"), template)
    script = dispatcher(first, _array())
    assert script.startswith("#!/bin/sh\n#SBATCH --job-name=t0\n")
    assert "#SBATCH --gres=gpu:1" in script
    assert "module load" not in script
    assert "SLURM_ARRAY_TASK_ID" in script
    assert "PBS_ARRAY_INDEX" in script
    assert 'exec $run "$d/job.sh"' in script


def test_payload_holds_the_dispatcher_the_manifest_and_each_job_script() -> None:
    """One tar stream: array.sh, the manifest (element i on line i + 1), every job.sh."""
    array = _array()
    data = payload(array, ["s0", "s1", "s2"], "dispatch")
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        files = {
            m.name: archive.extractfile(m).read().decode()  # type: ignore[union-attr]
            for m in archive.getmembers()
        }
    adir = "work/root/.arrays/P-x-fs7-x-0a1b2c3d"
    assert files == {
        f"{adir}/array.sh": "dispatch",
        f"{adir}/manifest": "/work/root/t0\n/work/root/t1\n/work/root/t2\n",
        "work/root/t0/job.sh": "s0",
        "work/root/t1/job.sh": "s1",
        "work/root/t2/job.sh": "s2",
    }


def test_squeue_lists_each_element_by_its_own_id() -> None:
    """Recorded: held elements (JobHeldUser), then ended ones with their causes."""
    lines = (SAMPLES / "slurm_squeue_array.txt").read_text().splitlines()
    first, after = parse_squeue("\n".join(lines[:4])), parse_squeue("\n".join(lines[4:]))
    assert [(i.job_id, i.state) for i in first] == [
        (f"38002858_{n}", JobState.HELD) for n in range(4)
    ]
    assert [(i.job_id, i.end_cause) for i in after] == [
        ("38002858_0", EndCause.SUCCESS),
        ("38002858_1", EndCause.EXIT_CODE),
        ("38002858_2", EndCause.MEMORY),
        ("38002858_3", None),
    ]
    assert {i.name for i in after} == {"recarray"}


def test_sacct_reads_elements_and_their_use() -> None:
    """Recorded: each element's cause and peak memory; pending ones, compressed, one each."""
    found = {i.job_id: i for i in parse_sacct((SAMPLES / "slurm_sacct_array.txt").read_text())}
    assert found["38002858_1"].end_cause is EndCause.EXIT_CODE
    assert found["38002858_1"].exit_status == 3
    assert found["38002858_2"].end_cause is EndCause.MEMORY
    assert found["38002858_1"].memory_used_bytes == 2892 * 1024
    assert found["38002858_3"].state is JobState.QUEUED
    pending = [f"38002863_{n}" for n in range(5)]
    assert [found[j].state for j in pending] == [JobState.QUEUED] * 5


def test_pbspro_subjobs_read_with_their_causes() -> None:
    """PBS Pro's `qstat -t -f -F json`: subjobs by their own ids, -27 a memory kill."""
    found = {i.job_id: i for i in parse_json((SAMPLES / "pbspro_qstat_t_json.json").read_text())}
    assert found["7001[].pbs01"].state is JobState.RUNNING  # B: the array has begun
    assert found["7001[0].pbs01"].exit_status == 0
    assert PBSPRO.exit_cause(found["7001[1].pbs01"].exit_status or 0) is EndCause.MEMORY
    assert found["7001[1].pbs01"].memory_used_bytes == 8 * 1024**3
    assert found["7001[2].pbs01"].state is JobState.RUNNING
    assert array_of("7001[2].pbs01") == "7001[].pbs01"


def test_torque_array_elements_read_with_their_causes() -> None:
    """Torque's `qstat -t -f -1`: elements `1301[i].server`, -10 a memory kill, H held."""
    found = {i.job_id: i for i in parse_text((SAMPLES / "torque_qstat_t_f1.txt").read_text())}
    assert list(found) == [f"1301[{n}].torque01.example.org" for n in range(3)]
    assert TORQUE.exit_cause(found["1301[1].torque01.example.org"].exit_status or 0) is (
        EndCause.MEMORY
    )
    assert found["1301[2].torque01.example.org"].state is JobState.HELD


def test_a_command_rate_spaces_commands_evenly() -> None:
    """At 4 commands a second, three asked at once wait 0, 0.25 and 0.5 s; one asked after a
    pause goes at once; unlimited, none waits."""
    rate = CommandRate(4)
    assert [rate.reserve(10.0) for _ in range(3)] == [0.0, 0.25, 0.5]
    assert rate.reserve(20.0) == 0.0
    assert [CommandRate(None).reserve(10.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="positive"):
        CommandRate(0)
