"""
Where jobs run and how many: `cluster.executor: slurm` (DAX 2.x submits with sbatch), the
account, the image folder, the job template when aspider can fill it, and the queue limit; the
other attrs DAX has, each with why aspider has no setting for it.
"""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

from aspider.dax_import._import_job import ImportJob, relative_hint
from aspider.dax_import._job_body import dax_job_problem
from aspider.dax_import._keys import MAPPED_ATTRS, UNMAPPED_ATTRS
from pbs import InvalidValue, JobTemplate

# Placeholders DAX fills and aspider does not (pbs.JobTemplate fills the others as DAX does).
_DAX_ONLY_PLACEHOLDERS = ("job_env", "xnat_host")
_TEMPLATE_NOTE = (
    "cluster.job_template: same placeholders as DAX (${job_cmds}, ${job_walltime}, "
    "${job_memory}, ${job_ppn}, ... filled by string.Template's safe_substitute); but "
    "${job_cmds} is one command that runs aspider's whole job, and aspider's #SBATCH lines "
    "follow the #! line"
)


def carry_cluster(job: ImportJob) -> None:
    """The `cluster:` section: executor, account, image folder, job template."""
    cluster = job.section("cluster")
    cluster["executor"] = "slurm"
    job.out.notes.append(
        "cluster.executor: slurm, as every DAX 2.x site submits with sbatch; cluster.host is "
        "not set: aspider runs sbatch and squeue on this machine, as DAX did (set cluster.host "
        "and user to submit over SSH from elsewhere)"
    )
    account = job.text("attrs", "job_rungroup")
    if account is not None:
        cluster["account"] = account
        job.carry_from(("attrs", "job_rungroup"), "cluster.account", account)
    images = job.text("singularity_imagedir")
    if images is not None:
        cluster["container_dir"] = images
        job.carry_from(("singularity_imagedir",), "cluster.container_dir", images)
    raw = job.text("jobtemplate")
    if raw is not None:
        _job_template(job, raw, cluster)


def _job_template(job: ImportJob, raw: str, cluster: dict[str, Any]) -> None:
    path = job.path(raw)
    text = _template_text(job, raw, path)
    if text is None:
        return
    problem = dax_job_problem(text)
    if problem is not None:
        _left_out(job, path, problem)
        return
    cluster["job_template"] = str(path)
    job.carry_from(("jobtemplate",), "cluster.job_template", str(path))
    job.out.notes.append(_TEMPLATE_NOTE)
    unfilled = sorted(set(_DAX_ONLY_PLACEHOLDERS) & set(Template(text).get_identifiers()))
    if unfilled:
        names = ", ".join(f"${{{name}}}" for name in unfilled)
        job.out.notes.append(
            f"cluster.job_template: aspider does not fill {names}, which DAX fills (its jobs "
            "never source an env file nor reach XNAT): the shell finds them unset, empty"
        )


def _template_text(job: ImportJob, raw: str, path: Path) -> str | None:
    """The template's text, when it is one; else None, and the problem reported."""
    fix = "or delete jobtemplate (aspider then writes its own job scripts)"
    try:
        text = path.read_text(encoding="utf-8")
        JobTemplate(text)
    except FileNotFoundError:
        job.problem(
            ("jobtemplate",), f"{path} does not exist{relative_hint(raw)}: correct it, {fix}"
        )
        return None
    except InvalidValue as exc:  # a ValueError too: before the next
        job.problem(("jobtemplate",), f"{path} is no job template: it {exc.reason}: fix it, {fix}")
        return None
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, or a NUL in the name
        job.problem(("jobtemplate",), f"cannot read {path} ({exc}): fix it, {fix}")
        return None
    return text


def _left_out(job: ImportJob, path: Path, problem: str) -> None:
    """DAX's whole job is no cluster.job_template: a note, and a comment in the file."""
    job.out.notes.append(
        f"jobtemplate {path}: not carried: {problem}, and name that in cluster.job_template "
        "(until then aspider writes its own job scripts)"
    )
    job.out.comments.append(
        f"cluster.job_template: not set from DAX's jobtemplate {path}: {problem}, and name "
        "that here"
    )


def carry_limits(job: ImportJob) -> None:
    """`limits.max_queued` from `attrs.queue_limit`; every other attr, a `not mapped:` line."""
    attrs = job.mapping("attrs")
    limit = job.text("attrs", "queue_limit")
    if limit is not None:
        if limit.isdecimal():
            job.section("limits")["max_queued"] = int(limit)
            job.carry_from(("attrs", "queue_limit"), "limits.max_queued", limit)
        else:
            job.problem(("attrs", "queue_limit"), f"a whole number of jobs, not {limit!r}")
    for key, why in UNMAPPED_ATTRS.items():
        if key in attrs:
            job.out.unmapped.append(f"attrs.{key}: {why}")
    if "xnat_pass" in attrs:
        job.out.unmapped.append("attrs.xnat_pass: a password is never written to a settings file")
    for key in attrs:
        if key not in MAPPED_ATTRS and key not in UNMAPPED_ATTRS:
            job.out.unmapped.append(f"attrs.{key}: not a DAX setting aspider knows")
