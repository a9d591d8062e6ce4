"""Slurm job scripts and DAX job templates: goldens, sbatch's options, and the scripts run."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from pbs import PBSPRO, InvalidValue, JobSpec, JobTemplate, render_job_script, render_slurm_script
from pbs.slurm._sbatch_script import sbatch_argv, slurm_time

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
SITE_TEMPLATE = (HERE / "templates" / "site_template.txt").read_text()


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
        qos="normal",
        mail_events="ae",
        mail_users=("alice@example.org",),
        extra_directives=("--gres=gpu:1",),
    )


def test_script_matches_golden() -> None:
    """The built-in Slurm job.sh is exactly the reviewed golden file."""
    assert render_slurm_script(full_spec()) == (GOLDEN / "slurm.sh").read_text()


def test_site_template_matches_golden() -> None:
    """A DAX-style template renders to the reviewed golden: our lines first, the site's kept."""
    rendered = render_slurm_script(full_spec(), JobTemplate(SITE_TEMPLATE))
    assert rendered == (GOLDEN / "slurm_site_template.sh").read_text()


def test_template_keeps_shell_variables_and_dollar_escapes() -> None:
    """safe_substitute, as DAX: `$(hostname)`, `$USER` stay; `$$` becomes `$`."""
    rendered = JobTemplate(SITE_TEMPLATE).render(full_spec())
    assert 'echo "node: $(hostname) job: PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d"' in rendered
    assert "export TMPDIR=/scratch/$USER\n" in rendered
    assert "${" + "job_" not in rendered


def test_sbatch_command_line_carries_the_limits() -> None:
    """sbatch's argv holds name, output, limits and --no-requeue: they win over any template."""
    argv = sbatch_argv(full_spec())
    assert argv[:3] == ["sbatch", "--parsable", "--job-name=PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d"]
    assert {
        "--ntasks=1",
        "--cpus-per-task=4",
        "--time=1-12:00:00",
        "--mem=8192M",
        "--partition=long",
        "--account=lab42",
        "--qos=normal",
        "--no-requeue",
    } <= set(argv)
    assert argv[-1] == "/work/root/PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d/job.sh"
    assert "--gres=gpu:1" not in argv  # extra directives live in the script only


@pytest.mark.parametrize(
    ("walltime", "text"),
    [
        (timedelta(seconds=90), "00:01:30"),
        (timedelta(hours=23, minutes=59, seconds=59), "23:59:59"),
        (timedelta(days=1), "1-00:00:00"),
        (timedelta(days=3, hours=2, minutes=1), "3-02:01:00"),
    ],
)
def test_slurm_time(walltime: timedelta, text: str) -> None:
    """Walltime in the forms sbatch --time reads, days from 24 hours on."""
    assert slurm_time(walltime) == text


def test_minimal_spec_asks_only_for_what_it_says() -> None:
    """No memory, partition, account, qos or mail: no such options at all."""
    spec = JobSpec(name="small", job_dir="/w/small", command="true")
    options = sbatch_argv(spec)
    assert not any(
        o.startswith(("--mem", "--partition", "--account", "--qos", "--mail")) for o in options
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("echo no shebang\n${job_cmds}\n", "#!"),
        ("#!/bin/sh\necho nothing to run\n", "job_cmds"),
        ("#!/bin/sh\n${job_cmds}\x00\n", "NUL"),
    ],
)
def test_bad_templates_are_refused(text: str, reason: str) -> None:
    """A template sbatch cannot run, or that never runs the job, is refused at once."""
    with pytest.raises(InvalidValue, match=reason):
        JobTemplate(text)


def test_template_asking_memory_needs_a_memory_request() -> None:
    """`${job_memory}` with no memory asked would render `--mem=mb`: refused with a reason."""
    spec = JobSpec(name="small", job_dir="/w/small", command="true")
    with pytest.raises(InvalidValue, match="memory"):
        JobTemplate(SITE_TEMPLATE).render(spec)


def test_qos_is_refused_by_pbs() -> None:
    """PBS has no quality of service: a spec asking for one is not silently submitted."""
    spec = JobSpec(name="q", job_dir="/w/q", command="true", qos="high")
    with pytest.raises(InvalidValue, match="qos"):
        render_job_script(spec, PBSPRO)


WRAPPING_TEMPLATE = """\
#!/bin/bash
#SBATCH --mem=${job_memory}
echo "site line for ${job_name}" > "${job_dir}/site.txt"
env SITE_WRAPPER=yes \\
    ${job_cmds}
echo "after the job" >> "${job_dir}/site.txt"
"""


def test_template_script_runs_the_wrapper(tmp_path: Path) -> None:
    """Run by bash, a template's site lines run and the wrapped job records its exit code."""
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    spec = JobSpec(
        name="job",
        job_dir=str(job_dir),
        command='echo "$SITE_WRAPPER $V"; exit 5',
        environment={"V": "it's `x` $(y)"},
        memory_mb=100,
    )
    script = job_dir / "job.sh"
    script.write_text(JobTemplate(WRAPPING_TEMPLATE).render(spec))
    subprocess.run(["bash", str(script)], check=False, timeout=30, cwd="/", env=dict(os.environ))
    assert (job_dir / "status" / "exit_code").read_text() == "5\n"
    assert (job_dir / "job.log").read_text() == "yes it's `x` $(y)\n"
    assert (job_dir / "site.txt").read_text() == "site line for job\nafter the job\n"


def test_builtin_script_runs_the_wrapper(tmp_path: Path) -> None:
    """The built-in script runs under sh like the PBS one: exit code and log recorded."""
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    spec = JobSpec(name="job", job_dir=str(job_dir), command="echo ran; exit 2")
    (job_dir / "job.sh").write_text(render_slurm_script(spec))
    subprocess.run(["sh", str(job_dir / "job.sh")], check=False, timeout=30, cwd="/")
    assert (job_dir / "status" / "exit_code").read_text() == "2\n"
    assert (job_dir / "job.log").read_text() == "ran\n"
