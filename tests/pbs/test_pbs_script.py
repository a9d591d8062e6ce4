"""render_job_script: golden scripts per dialect, quoting, and the wrapper's behaviour."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from pbs import PBSPRO, TORQUE, TORQUE_XML, Dialect, JobSpec, render_job_script

GOLDEN = Path(__file__).parent / "golden"


def full_spec(job_dir: str = "/work/root/PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d") -> JobSpec:
    return JobSpec(
        name="PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d",
        job_dir=job_dir,
        command='recon-all -s "$SUBJ" -i "$INPUTS/t1.nii.gz" -sd "$OUTPUTS"\nexit $?\n',
        environment={"SUBJ": "it's $(id) `x`", "THREADS": "4"},
        walltime=timedelta(hours=36),
        memory_mb=8192,
        cpus=4,
        queue="long",
        account="lab42",
        mail_events="ae",
        mail_users=("alice@example.org",),
        extra_directives=("-W group_list=imaging",),
    )


@pytest.mark.parametrize(("dialect", "golden"), [(TORQUE, "torque.sh"), (PBSPRO, "pbspro.sh")])
def test_script_matches_golden(dialect: Dialect, golden: str) -> None:
    """The rendered job.sh is exactly the reviewed golden file for the dialect."""
    assert render_job_script(full_spec(), dialect) == (GOLDEN / golden).read_text()


def test_torque_xml_renders_like_torque() -> None:
    """Reading status as XML changes nothing in the job script."""
    assert render_job_script(full_spec(), TORQUE_XML) == render_job_script(full_spec(), TORQUE)


def test_torque_combines_resources_into_one_l() -> None:
    """The Slurm wrappers honour only one -l, so Torque scripts carry exactly one."""
    lines = render_job_script(full_spec(), TORQUE).splitlines()
    assert [line for line in lines if line.startswith("#PBS -l")] == [
        "#PBS -l nodes=1:ppn=4,mem=8192mb,walltime=36:00:00"
    ]


def test_pbspro_uses_select_and_never_nodes() -> None:
    """PBS Pro gets select= chunks and a separate walltime, never nodes=/ppn=."""
    text = render_job_script(full_spec(), PBSPRO)
    assert "#PBS -l select=1:ncpus=4:mem=8192mb\n#PBS -l walltime=36:00:00\n" in text
    assert "nodes=" not in text


def test_rendering_is_pure() -> None:
    """The same spec renders the same text twice (a pure function of its inputs)."""
    assert render_job_script(full_spec(), TORQUE) == render_job_script(full_spec(), TORQUE)


def _run_wrapper(tmp_path: Path, command: str, **env: str) -> Path:
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    spec = JobSpec(name="job", job_dir=str(job_dir), command=command, environment=env)
    script = job_dir / "job.sh"
    script.write_text(render_job_script(spec, TORQUE))
    subprocess.run(["sh", str(script)], check=False, timeout=30, cwd="/", env=dict(os.environ))
    return job_dir


def test_wrapper_records_exit_code_and_times(tmp_path: Path) -> None:
    """Run by sh, the wrapper writes started, exit_code 3 and finished for a command exiting 3."""
    job_dir = _run_wrapper(tmp_path, "echo out; echo err >&2; exit 3")
    status = job_dir / "status"
    assert (status / "exit_code").read_text() == "3\n"
    assert int((status / "started").read_text()) <= int((status / "finished").read_text())
    assert (job_dir / "job.log").read_text() == "out\nerr\n"
    assert sorted(p.name for p in status.iterdir()) == ["cpu", "exit_code", "finished", "started"]
    assert (status / "cpu").read_text() == "0\n"  # echo uses no CPU second


def test_wrapper_records_the_cpu_the_command_used(tmp_path: Path) -> None:
    """Two seconds of a busy loop in a child of the command: `status/cpu` says 2."""
    busy = (
        "python3 -c 'import time\nt = time.process_time()\nwhile time.process_time() - t < 2: pass'"
    )
    status = _run_wrapper(tmp_path, busy) / "status"
    assert (status / "cpu").read_text() == "2\n"


def test_wrapper_exports_absolute_dirs_and_quoted_values(tmp_path: Path) -> None:
    """INPUTS, OUTPUTS and JOBDIR are absolute; hostile values arrive verbatim, unexecuted."""
    marker = tmp_path / "pwned"
    hostile = f"$(touch {marker}) `touch {marker}` ; touch {marker} 'q\""
    job_dir = _run_wrapper(
        tmp_path, 'printf "%s\\n" "$JOBDIR" "$INPUTS" "$OUTPUTS" "$V"', V=hostile
    )
    lines = (job_dir / "job.log").read_text().splitlines()
    assert lines == [str(job_dir), f"{job_dir}/INPUTS", f"{job_dir}/OUTPUTS", hostile]
    assert not marker.exists()


def test_wrapper_on_sigterm_records_signal_not_exit_code(tmp_path: Path) -> None:
    """A TERM (the scheduler's walltime kill) leaves signal and finished, but no exit_code."""
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    spec = JobSpec(name="job", job_dir=str(job_dir), command="sleep 60")
    (job_dir / "job.sh").write_text(render_job_script(spec, TORQUE))
    process = subprocess.Popen(["sh", str(job_dir / "job.sh")])
    started = job_dir / "status" / "started"
    try:
        for _ in range(300):  # hang guard: wait at most ~30 s for the wrapper to start
            if started.exists():
                break
            subprocess.run(["sleep", "0.1"], check=True)
        process.terminate()
        assert process.wait(timeout=30) == 143
    finally:
        process.kill()
    status = job_dir / "status"
    assert (status / "signal").read_text() == "TERM\n"
    assert (status / "finished").exists()
    assert not (status / "exit_code").exists()
