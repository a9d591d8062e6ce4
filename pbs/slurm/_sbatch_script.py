"""
Slurm job scripts. Pure: same spec (and template), same text.

`sbatch_options` are the job's resources as sbatch options; they go both into the script as
`#SBATCH` lines and onto sbatch's command line, where they win over anything a site template
says, so the job's name (its idempotency key), output file and limits are always ours.

A DAX job template (`JobTemplate`) is the text a lab already uses with DAX: `string.Template`
placeholders (`${job_cmds}`, `${job_walltime}`, `${job_memory}`, ...) around its own lines
(modules, scratch, account). It is rendered with `safe_substitute`, as DAX does, so shell
variables such as `$HOME` stay as written; `${job_cmds}` becomes one command that runs the job
wrapper, so it also fits where a template wraps the command (`xvfb-run ... ${job_cmds}`).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import timedelta
from string import Template

from .. import _names
from .._arrays import ARRAY_SCRIPT, ArraySpec
from .._dialects import SCHEDULER_LOG
from .._exceptions import InvalidValue
from .._script import render_wrapper
from .._spec import JobSpec

# PBS mail letters -> Slurm mail types.
_MAIL_TYPES = {"a": "FAIL", "b": "BEGIN", "e": "END", "n": "NONE"}


def slurm_time(walltime: timedelta) -> str:
    """`HH:MM:SS`, or `D-HH:MM:SS` from one day on: the forms sbatch's `--time` reads."""
    seconds = int(walltime.total_seconds())
    days, rest = divmod(seconds, 86400)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}-{clock}" if days else clock


def mail_types(spec: JobSpec) -> str | None:
    """`--mail-type` for the spec's PBS-style mail letters (`ae` -> `FAIL,END`)."""
    if spec.mail_events is None:
        return None
    return ",".join(_MAIL_TYPES[letter] for letter in spec.mail_events)


def sbatch_options(spec: JobSpec, output: str = SCHEDULER_LOG) -> list[str]:
    """sbatch options for the job: one word each (`--name=value`), in #SBATCH-line order."""
    options = [
        f"--job-name={spec.name}",
        f"--output={spec.job_dir / output}",
        f"--chdir={spec.job_dir}",
        "--nodes=1",
        "--ntasks=1",
        f"--cpus-per-task={spec.cpus}",
        f"--time={slurm_time(spec.walltime)}",
    ]
    if spec.memory_mb is not None:
        options.append(f"--mem={spec.memory_mb}M")
    for flag, value in (("partition", spec.queue), ("account", spec.account), ("qos", spec.qos)):
        if value:
            options.append(f"--{flag}={value}")
    types = mail_types(spec)
    if types:
        options.append(f"--mail-type={types}")
    if spec.mail_users:
        options.append(f"--mail-user={','.join(spec.mail_users)}")
    # A requeued job would run again over a directory that already records its end; the
    # engine, not the scheduler, decides whether a job that lost its node runs again.
    options.append("--no-requeue")
    return options


def sbatch_argv(spec: JobSpec) -> list[str]:
    """The submit command: `sbatch --parsable <options> <job dir>/job.sh`."""
    hold = ["--hold"] if spec.hold else []  # a user hold, lifted by `scontrol release`
    return ["sbatch", "--parsable", *hold, *sbatch_options(spec), str(spec.job_dir / "job.sh")]


#: An array's scheduler output, one file per element (`%a`: the element's index).
ARRAY_OUTPUT = "scheduler.%a.log"


def sbatch_array_argv(array: ArraySpec) -> list[str]:
    """`sbatch --parsable --array=0-<n-1>[%M] <options> <array dir>/array.sh`."""
    header = array.header
    hold = ["--hold"] if header.hold else []
    options = sbatch_options(header, ARRAY_OUTPUT)
    script = str(array.array_dir / ARRAY_SCRIPT)
    return ["sbatch", "--parsable", *hold, f"--array={array.index_range}", *options, script]


def _directives(spec: JobSpec) -> list[str]:
    lines = [f"#SBATCH {option}" for option in sbatch_options(spec)]
    return lines + [f"#SBATCH {directive}" for directive in spec.extra_directives]


@dataclass(frozen=True)
class JobTemplate:
    """
    A DAX job template, checked once: it starts with `#!` (sbatch requires it) and uses
    `${job_cmds}`, or the job would never run.

    Placeholders filled: `job_cmds`, `job_walltime`, `job_memory` (MB, a number), `job_ppn`
    (CPUs), `job_output_file`, `job_output_file_options` (`oe`), `job_email`,
    `job_email_options` (`NONE` without mail events), `job_rungroup` (the account), and
    `job_name`, `job_dir`. DAX's `job_env` and `xnat_host` are not: the job never talks to
    XNAT. Every other `$word` is left for the shell.
    """

    text: str
    _identifiers: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _names.check_no_nul(self.text, "job template")
        if not self.text.startswith("#!"):
            raise InvalidValue("job template", self.text[:40], "must start with a #! line")
        identifiers = frozenset(Template(self.text).get_identifiers())
        if "job_cmds" not in identifiers:
            raise InvalidValue("job template", self.text[:40], "must contain ${job_cmds}")
        object.__setattr__(self, "_identifiers", identifiers)

    def values(self, spec: JobSpec) -> dict[str, str]:
        """The placeholders' values for this job."""
        if "job_memory" in self._identifiers and spec.memory_mb is None:
            raise InvalidValue(
                "job template", "${job_memory}", "is used, so the job must ask for memory"
            )
        command = shlex.join(["/bin/sh", "-c", render_wrapper(spec)])
        return {
            "job_cmds": command,
            "job_walltime": slurm_time(spec.walltime),
            "job_memory": "" if spec.memory_mb is None else str(spec.memory_mb),
            "job_ppn": str(spec.cpus),
            "job_output_file": str(spec.job_dir / SCHEDULER_LOG),
            "job_output_file_options": "oe",
            "job_email": ",".join(spec.mail_users),
            "job_email_options": mail_types(spec) or "NONE",
            "job_rungroup": spec.account or "",
            "job_name": spec.name,
            "job_dir": str(spec.job_dir),
        }

    def render(self, spec: JobSpec) -> str:
        """The template for this job, the job's own #SBATCH lines right after its `#!` line."""
        first, _, rest = self.text.partition("\n")
        body = Template(rest).safe_substitute(self.values(spec))
        return "\n".join([first, *_directives(spec), body])


def render_slurm_script(spec: JobSpec, template: JobTemplate | None = None) -> str:
    """The job's `job.sh` for sbatch: `#SBATCH` lines, then the wrapper (or the template)."""
    if template is not None:
        return template.render(spec)
    return "\n".join(["#!/bin/sh", *_directives(spec)]) + "\n" + render_wrapper(spec)
