"""
Per-processor DAX job templates (`jobtemplate:` in a processor file) and what a run says about
them and about container paths.

A task names its template as an absolute path (`Task.jobtemplate`, resolved beside the processor
file). Only an executor that renders DAX templates can honour it (the Slurm executor, through
`pbs.JobTemplate`): `job_template(task, executor)` is its hook, reading and checking the file
once per path. Every other executor writes its own job script, and the run says so once per
processor, never silently. A template that is DAX's whole job (VUIIS's `job_template_v3.txt`:
curl downloads, `$MAINCMD`, `$DSTDIR`) is refused before any job, by the rule `aspider
import-dax` uses to leave one out (`aspider.dax_import.dax_job_problem`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from aspider._exceptions import ConfigError
from aspider.dax_import import dax_job_problem
from aspider.plan import Task
from aspider.plan.build import jobtemplate_path
from aspider.processors import Processor
from pbs import InvalidValue, JobTemplate

TEMPLATE_EXECUTORS = frozenset({"slurm"})  # executors whose job.sh can be a DAX template


def job_template(task: Task, executor: str) -> JobTemplate | None:
    """
    The task's DAX job template, checked, for an executor that renders one; None when its
    processor names none, or names one that is not there (DAX's own `job_template_v3.txt`,
    which lives in DAX's package, not beside the file): the executor's own script is used
    then, and `run_notices` said so.

    Raises:
        ConfigError: the file is there but cannot be read or is not a usable template.
    """
    if task.jobtemplate is None or executor not in TEMPLATE_EXECUTORS:
        return None
    return _read(task.jobtemplate)


def checked_job_template(text: str, source: str) -> JobTemplate:
    """
    A DAX job template aspider can fill; `source` names it in the error (`job template PATH`,
    `cluster.job_template: PATH`).

    Raises:
        ConfigError: it is no template (no #! line, no ${job_cmds}), or it is DAX's whole job
            (curl downloads, $MAINCMD, $DSTDIR), whose body would wait on XNAT under aspider.
    """
    try:
        template = JobTemplate(text)
    except InvalidValue as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    problem = dax_job_problem(text)
    if problem is not None:
        raise ConfigError(f"{source}: {problem}, and name that instead")
    return template


@lru_cache(maxsize=64)
def _read(path: str) -> JobTemplate | None:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"job template {path}: cannot read it ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"job template {path}: not UTF-8 text ({exc.reason})") from exc
    return checked_job_template(text, f"job template {path}")


def run_notices(
    processors: Sequence[Processor], executor: str, container_dir: str | None
) -> list[str]:
    """
    What a person should know before a run: templates not used, relative images.

    Raises:
        ConfigError: a processor's job template is there but is not usable (before any job).
    """
    notices = []
    for proc in processors:
        if proc.spec.inputs.xnat.subjects is not None:
            notices.append(
                f"{proc.proctype}: a DAX project analysis (inputs.xnat.subjects) is loaded and "
                "checked but not run (DAX runs them from REDCap, not from its build)"
            )
        template = jobtemplate_path(proc)
        if template is not None and executor not in TEMPLATE_EXECUTORS:
            notices.append(
                f"{proc.proctype}: jobtemplate {posixpath.basename(template)} is not used: the "
                f"{executor} executor writes its own job script (a Slurm executor uses it)"
            )
        elif template is not None and _read(template) is None:
            notices.append(
                f"{proc.proctype}: jobtemplate {posixpath.basename(template)} is not beside "
                "the processor file: its jobs use the executor's own job script"
            )
        relative = [
            c.path
            for c in proc.spec.containers
            if not posixpath.isabs(c.path) and "://" not in c.path
        ]
        if relative and not container_dir and proc.spec.command.type != "shell":
            notices.append(
                f"{proc.proctype}: container {relative[0]} is a relative path and "
                "cluster.container_dir is not set: jobs look for it in their own directory"
            )
    return notices
