"""
Each DAX project entry as `projects.<P>.processors`: the handles it names (`a, b` as DAX writes
them), each as its processor's proctype with the handle's `arguments` as overrides; what an
entry has besides, a `not mapped:` line each.
"""

from __future__ import annotations

from typing import Any

from aspider._config_errors import did_you_mean
from aspider.dax_import._document import dotted, shown
from aspider.dax_import._handles import Handles
from aspider.dax_import._import_job import ImportJob
from aspider.dax_import._keys import PROJECT_KEYS, SECTIONS, UNMAPPED_TOP
from aspider.processors import KeyPath, OverrideValue

_Chosen = dict[str, dict[str, OverrideValue] | None]  # proctype -> its overrides, or None


def carry_projects(job: ImportJob, handles: Handles) -> None:
    """`projects:`, one entry per project (a project listed twice is one)."""
    chosen: dict[str, _Chosen] = {}
    first: dict[str, KeyPath] = {}
    for index, entry in enumerate(job.doc.data["projects"]):
        where: KeyPath = ("projects", index)
        project = _project_name(job, where, entry)
        if project is None:
            continue
        processors = chosen.setdefault(project, {})
        first.setdefault(project, (*where, "project"))
        for section, name in _names(job, where):
            _choose(job, (*where, section), project, processors, handles, (section, name))
        _project_leftovers(job, where, project, entry)
    for project, processors in chosen.items():
        if not processors:
            job.out.unmapped.append(
                f"project {project}: no v3 processor to run (left out: an aspider project "
                "without processors named would run every processor)"
            )
            continue
        job.out.settings.setdefault("projects", {})[project] = {"processors": processors}
        listed = [f"{p} ({len(o)} override(s))" if o else p for p, o in processors.items()]
        job.carry_from(first[project], f"projects.{project}", ", ".join(listed))


def _project_name(job: ImportJob, where: KeyPath, entry: Any) -> str | None:
    """The entry's `project:`; None, and the problem reported, when it has none."""
    if not isinstance(entry, dict):
        plain = isinstance(entry, int) or (isinstance(entry, str) and entry.isprintable())
        example = entry if plain else "NAME"  # a control character would break the line
        job.problem(
            where,
            f"{shown(entry)} is not a project entry: DAX reads `- project: {example}` "
            "with `yamlprocessors: NAME, NAME` under it",
        )
        return None
    project = job.text(*where, "project")
    if project is None and entry.get("project") in (None, ""):  # else reported as a wrong value
        job.problem(where, "no `project:`: write `- project: NAME` first in each entry")
    return project


def _names(job: ImportJob, where: KeyPath) -> list[tuple[str, str]]:
    """(section, name) of each processor an entry names: `a, b` as DAX writes it, or a list."""
    names = []
    for section in SECTIONS:
        value = job.doc.get(*where, section)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ",".join(value)
        if value is not None and not isinstance(value, str):
            job.problem((*where, section), f"names separated by commas, not {shown(value)}")
            continue
        names += [(section, n.strip()) for n in (value or "").split(",") if n.strip()]
    return names


def _choose(
    job: ImportJob,
    where: KeyPath,
    project: str,
    processors: _Chosen,
    handles: Handles,
    key: tuple[str, str],
) -> None:
    """The processor a handle names joins the project's, once per proctype."""
    section, name = key
    if key not in handles:
        known = [n for s, n in handles if s == section]
        guess = did_you_mean(name, known)
        other = [s for s in SECTIONS if (s, name) in handles]
        hint = f"; it is in {other[0]}" if other else f"; did you mean {guess}?" if guess else ""
        job.problem(where, f"no {section} entry named {name!r}{hint}")
        return
    handle = handles[key]
    if handle is None:
        return
    proctype = handle.processor.proctype
    if proctype in processors:
        job.out.unmapped.append(
            f"project {project}: {name} is {proctype} again (a project runs one processor per "
            "proctype); kept the first"
        )
        return
    processors[proctype] = dict(handle.arguments) or None


def _project_leftovers(job: ImportJob, where: KeyPath, project: str, entry: dict[str, Any]) -> None:
    for key, value in entry.items():
        if key in ("processors", "modules") and value:
            job.out.unmapped.append(f"project {project}: {key} {value}: {UNMAPPED_TOP[key]}")
        elif key not in PROJECT_KEYS and key not in ("processors", "modules"):
            job.out.unmapped.append(f"{dotted((*where, key))}: not a DAX setting aspider knows")
