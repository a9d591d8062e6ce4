"""
The import, step by step: XNAT, cluster, limits, processor files, projects, then every other
top-level key; all problems found are raised together, so one run of `import-dax` lists them.
"""

from __future__ import annotations

from aspider._exceptions import ConfigError
from aspider.dax_import._cluster import carry_cluster, carry_limits
from aspider.dax_import._conversion import Conversion
from aspider.dax_import._document import DaxDocument
from aspider.dax_import._handles import Handles, read_handles
from aspider.dax_import._import_job import DaxEnvironment, ImportJob
from aspider.dax_import._keys import MAPPED_TOP, SECTIONS, UNMAPPED_TOP
from aspider.dax_import._projects import carry_projects
from aspider.dax_import._xnat import carry_xnat


def convert(doc: DaxDocument, env: DaxEnvironment) -> Conversion:
    """
    The aspider settings a DAX settings document comes to, each processor file loaded.

    Raises:
        ConfigError: every problem found, one line each (file:line: where: what; fix).
    """
    job = ImportJob(doc, env)
    carry_xnat(job)
    carry_cluster(job)
    carry_limits(job)
    handles = read_handles(job)
    _carry_processor_paths(job, handles)
    carry_projects(job, handles)
    _other_keys(job)
    if job.problems:
        raise ConfigError("\n".join(job.problems))
    return job.out


def _carry_processor_paths(job: ImportJob, handles: Handles) -> None:
    paths = list(dict.fromkeys(str(h.path) for h in handles.values() if h is not None))
    if paths:
        job.out.settings["processor_paths"] = paths
        where = next((s,) for s in SECTIONS if s in job.doc.data)
        job.carry_from(where, "processor_paths", f"{len(paths)} file(s), each loaded and valid")


def _other_keys(job: ImportJob) -> None:
    """`admin_email` as a comment; every other top-level key, a `not mapped:` line."""
    data = job.doc.data
    email = job.text("admin_email")
    if email is not None:
        job.out.comments.append(
            f"admin_email: {email}  (from DAX; aspider does not send email yet)"
        )
        job.out.notes.append(
            f"admin_email {email}: kept as a comment in the settings; aspider does not send email "
            "yet (its run summary, `aspider status` and the status page of `aspider serve` report "
            "jobs)"
        )
    for key, why in UNMAPPED_TOP.items():
        if data.get(key):
            job.out.unmapped.append(f"{key}: {why}")
    for key in data:
        if key not in MAPPED_TOP and key not in UNMAPPED_TOP:
            job.out.unmapped.append(f"{key}: not a DAX setting aspider knows")
