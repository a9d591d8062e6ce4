"""
A DAX settings file as aspider settings (`aspider import-dax`), and what does not carry over.

What maps: the processor files a DAX settings file names (`yamlprocessors`, `sgpprocessors`,
joined to `processorlib`), each project's processors with its per-handle `arguments` as
`projects.<P>.processors.<proctype>` overrides (DAX varies a processor per project by naming
the file twice under two handles), `singularity_imagedir` as `cluster.container_dir`,
`xnat_host`/`xnat_user`, `queue_limit` as `limits.max_queued` and `job_rungroup` as
`cluster.account`. What does not is listed, one line each with the reason: the password (never
written to a settings file), DAX's job template and results folder, legacy processors and
modules, its mail and launch pacing options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aspider._exceptions import ProcessorError
from aspider.processors import override_key_problem, parse_file_name

# DAX attrs that have no aspider setting, and why.
_UNMAPPED_ATTRS = {
    "queue_limit_pending": "aspider limits what is queued or running (limits.max_queued) only",
    "limit_pendinguploads": "aspider uploads outputs as jobs end, in the sweep",
    "launch_delay_sec": "aspider submits without pauses, within its limits",
    "root_job_dir": "aspider jobs run in their job directory under cluster.work_root",
    "priority_project": "aspider orders by processor priority, then session age",
    "job_email": "aspider sends no mail; its run summary and status page report jobs",
    "job_email_options": "aspider sends no mail",
    "cr": "not needed: aspider reads XNAT's answers as they come",
    "launcher_type": "aspider has one way to run",
    "skip_lastupdate": "aspider decides what changed from each session's state",
}
_UNMAPPED_TOP = {
    "resdir": "DAX's local results folder (DISKQ, outputs before upload); aspider's job "
    "directories are in cluster.work_root",
    "modulelib": "DAX modules are not processors",
    "modules": "DAX modules are not processors",
    "processors": "legacy (v1/v2) processors: aspider reads v3 processor files only",
    "smtp_host": "aspider sends no mail",
    "timeout_emails": "aspider sends no mail",
}
_MAPPED_TOP = {
    "attrs",
    "processorlib",
    "singularity_imagedir",
    "jobtemplate",
    "yamlprocessors",
    "sgpprocessors",
    "projects",
}


@dataclass
class Conversion:
    """The aspider settings (as data) and a line per thing that did not carry over."""

    settings: dict[str, Any] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Handle:
    name: str
    path: str
    proctype: str
    arguments: dict[str, Any]
    subject: bool


def convert(dax: dict[str, Any]) -> Conversion:
    """A DAX settings document (as parsed YAML) as aspider settings data."""
    out = Conversion()
    handles = _handles(dax, out)
    paths = list(dict.fromkeys(h.path for h in handles.values()))
    if paths:
        out.settings["processor_paths"] = paths
    _attrs(dax.get("attrs") or {}, out)
    if dax.get("singularity_imagedir"):
        out.settings.setdefault("cluster", {})["container_dir"] = str(dax["singularity_imagedir"])
    if dax.get("jobtemplate"):
        out.unmapped.append(
            f"jobtemplate {dax['jobtemplate']}: a processor's `jobtemplate:` is read beside its "
            "own file in aspider (beside this template in DAX): copy the templates there; only "
            "a Slurm executor uses them"
        )
    out.unmapped.append(
        "cluster: DAX submits with Slurm where it runs; set cluster.executor, host and user "
        "for the cluster aspider reaches over SSH (the default runs jobs on this machine)"
    )
    projects = _projects(dax.get("projects") or [], handles, out)
    if projects:
        out.settings["projects"] = projects
    for key, why in _UNMAPPED_TOP.items():
        if dax.get(key):
            out.unmapped.append(f"{key}: {why}")
    for key in dax:
        if key not in _MAPPED_TOP and key not in _UNMAPPED_TOP:
            out.unmapped.append(f"{key}: not a DAX setting aspider knows")
    return out


def _handles(dax: dict[str, Any], out: Conversion) -> dict[str, _Handle]:
    lib = str(dax.get("processorlib") or "")
    found: dict[str, _Handle] = {}
    for section, subject in (("yamlprocessors", False), ("sgpprocessors", True)):
        for entry in dax.get(section) or []:
            name, path = str(entry.get("name", "")), str(entry.get("filepath", ""))
            full = path if (path.startswith("/") or not lib) else f"{lib.rstrip('/')}/{path}"
            try:
                proctype = parse_file_name(Path(full))[0]
            except ProcessorError:
                out.unmapped.append(f"{section} {name}: {path} is not a v3 processor file name")
                continue
            arguments = dict(entry.get("arguments") or {})
            if subject and arguments:
                out.unmapped.append(
                    f"sgpprocessors {name}: DAX ignores arguments of subject processors; "
                    "aspider applies them"
                )
            found[name] = _Handle(name, full, proctype, arguments, subject)
    return found


def _attrs(attrs: dict[str, Any], out: Conversion) -> None:
    settings = out.settings
    if attrs.get("xnat_host"):
        settings.setdefault("xnat", {})["url"] = str(attrs["xnat_host"])
    if attrs.get("xnat_user"):
        settings.setdefault("xnat", {})["user"] = str(attrs["xnat_user"])
    if attrs.get("xnat_pass"):
        out.unmapped.append(
            "attrs.xnat_pass: a password is never written to a settings file; set "
            "ASPIDER_XNAT__PASSWORD, xnat.password_file (a mounted secret), or ~/.netrc"
        )
    if attrs.get("queue_limit") is not None:
        settings.setdefault("limits", {})["max_queued"] = int(attrs["queue_limit"])
    if attrs.get("job_rungroup"):
        settings.setdefault("cluster", {})["account"] = str(attrs["job_rungroup"])
    for key, why in _UNMAPPED_ATTRS.items():
        if key in attrs:
            out.unmapped.append(f"attrs.{key}: {why}")
    known = {"xnat_host", "xnat_user", "xnat_pass", "queue_limit", "job_rungroup"}
    for key in attrs:
        if key not in known and key not in _UNMAPPED_ATTRS:
            out.unmapped.append(f"attrs.{key}: not a DAX setting aspider knows")


def _projects(
    entries: list[dict[str, Any]], handles: dict[str, _Handle], out: Conversion
) -> dict[str, Any]:
    projects: dict[str, Any] = {}
    for entry in entries:
        project = str(entry.get("project", ""))
        names = [
            n.strip()
            for key in ("yamlprocessors", "sgpprocessors")
            for n in str(entry.get(key) or "").split(",")
            if n.strip()
        ]
        for key in ("processors", "modules"):
            if entry.get(key):
                out.unmapped.append(f"project {project}: {key} {entry[key]}: {_UNMAPPED_TOP[key]}")
        chosen = _project_processors(project, names, handles, out)
        if not chosen:
            out.unmapped.append(
                f"project {project}: no v3 processor to run (left out: an aspider project "
                "without processors named would run every processor)"
            )
            continue
        projects[project] = {"processors": chosen}
    return projects


def _project_processors(
    project: str, names: list[str], handles: dict[str, _Handle], out: Conversion
) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    for name in names:
        handle = handles.get(name)
        if handle is None:
            out.unmapped.append(f"project {project}: no processor handle {name!r}")
            continue
        if handle.proctype in chosen:
            out.unmapped.append(
                f"project {project}: {name} is {handle.proctype} again (a project runs one "
                "processor per proctype); kept the first"
            )
            continue
        overrides = {}
        for key, value in handle.arguments.items():
            problem = override_key_problem(str(key))
            if problem:
                out.unmapped.append(f"project {project}: {name}: {problem}")
            else:
                overrides[str(key)] = value
        chosen[handle.proctype] = overrides or None
    return chosen
