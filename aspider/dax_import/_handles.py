"""
The processor entries of a DAX file (`yamlprocessors`, `sgpprocessors`): each entry's file,
joined to `processorlib`, loaded and validated as aspider runs it, and its `arguments` checked
as aspider overrides against that processor. A project names entries by these handles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aspider._exceptions import ConfigError, ProcessorError
from aspider.dax_import._document import dotted, shown
from aspider.dax_import._import_job import ImportJob, relative_hint
from aspider.dax_import._keys import ENTRY, SECTIONS
from aspider.processors import (
    KeyPath,
    OverrideValue,
    Processor,
    load_processor,
    override_key_problem,
    with_overrides,
)


@dataclass(frozen=True)
class Handle:
    """A processor entry of the DAX file: its file, loaded, and its `arguments`."""

    path: Path
    processor: Processor
    arguments: dict[str, OverrideValue]


Handles = dict[tuple[str, str], Handle | None]  # (section, name) -> None: reported already


def read_handles(job: ImportJob) -> Handles:
    """Every entry of both sections by (section, name); None for an entry reported as wrong."""
    lib = job.text("processorlib")
    found: Handles = {}
    for section in SECTIONS:
        entries = job.doc.get(section)
        if entries is not None and not isinstance(entries, list):
            job.problem((section,), f"a list of {ENTRY} entries, not {shown(entries)}")
            continue
        for index, entry in enumerate(entries or []):
            name = entry.get("name") if isinstance(entry, dict) else None
            if name is None or name == "" or not isinstance(entry.get("filepath"), str):
                job.problem((section, index), f"{shown(entry)} is not an entry: write {ENTRY}")
                continue
            found[(section, str(name))] = _handle(job, (section, index), str(name), lib)
    _one_file_per_proctype(job, found)
    return found


def _handle(job: ImportJob, where: KeyPath, name: str, lib: str | None) -> Handle | None:
    raw = str(job.doc.get(*where, "filepath"))
    path = job.path(raw, lib)
    leave_out = f"or take {name} out of {where[0]} and of the projects that name it"
    if not path.is_file():
        fix = "correct filepath (or processorlib)"
        job.problem(
            (*where, "filepath"),
            f"{path} does not exist{relative_hint(raw, lib)}: {fix}, {leave_out}",
        )
        return None
    try:
        processor = load_processor(path)
    except ProcessorError as exc:
        job.problem(where, f"{name}: {path} is not a processor aspider runs: fix it, {leave_out}:")
        job.problems.extend(str(issue) for issue in exc.issues)
        return None
    except (ValueError, TypeError, RecursionError) as exc:  # a net: YAML's own are issues now
        job.problem(where, f"{name}: cannot read {path} ({exc}): fix it, {leave_out}")
        return None
    arguments = _arguments(job, where, processor)
    if where[0] == "sgpprocessors" and arguments:
        job.out.unmapped.append(
            f"sgpprocessors {name}: DAX ignores arguments of subject processors; "
            "aspider applies them"
        )
    return Handle(path, processor, arguments)


def _arguments(job: ImportJob, where: KeyPath, processor: Processor) -> dict[str, OverrideValue]:
    """The entry's `arguments` as aspider overrides, each checked against its processor."""
    chosen: dict[str, OverrideValue] = {}
    for key, value in job.mapping(*where, "arguments").items():
        problem = override_key_problem(str(key))
        if problem:
            job.out.unmapped.append(f"{dotted(where)}.arguments: {problem}")
        elif isinstance(value, str | int | float | bool):
            chosen[str(key)] = value
        else:
            job.problem((*where, "arguments", str(key)), f"one value, not {shown(value)}")
    place = f"{job.doc.at(*where, 'arguments')}: {dotted(where)}.arguments"
    try:
        with_overrides(processor, chosen, place)
    except ConfigError as exc:
        job.problems.append(str(exc))
    return chosen


def _one_file_per_proctype(job: ImportJob, handles: Handles) -> None:
    first: dict[str, Path] = {}
    for (section, name), handle in handles.items():
        if handle is None:
            continue
        seen = first.setdefault(handle.processor.proctype, handle.path)
        if seen != handle.path:
            job.problems.append(
                f"{job.doc.at(section)}: {section} {name}: {handle.path} and {seen} are both "
                f"{handle.processor.proctype}: aspider loads one file per proctype; keep one"
            )
