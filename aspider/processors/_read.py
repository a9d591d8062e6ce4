"""
Reading one processor file: name -> identity, YAML -> spec, every problem -> file:line: field.

A file in DAX's older formats (v1 spider processors, v2 `moreauto`) is refused on its first
line, saying so: aspider reads the v3 format only, and every other message would mislead.
A DAX project processor (`processor.yaml` with `inputs.xnat.subjects`) has no version in its
name; it is named for its folder, as DAX's analyses are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aspider._exceptions import Issue, ProcessorError
from aspider.processors._checks import check_spec
from aspider.processors._model import ProcessorSpec
from aspider.processors._notes import legacy_format, name_notes, spec_notes
from aspider.processors._trial import TRIAL_NAME_TAKEN, TRIAL_PREFIX, is_trial
from aspider.processors._yaml import (
    LineMap,
    YamlSyntaxError,
    load_yaml_with_lines,
    read_yaml_with_lines,
)

# `<name>_v<X.Y.Z>.yaml` (semantic version, optional pre-release/build), as DAX requires.
_FILE_NAME = re.compile(
    r"^(?P<name>[\w-]+)_v(?P<version>(?P<major>0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)\.ya?ml$"
)
_PROJECT_FILE = "processor.yaml"
_FOLDER_NAME = re.compile(r"^[\w-]+$")
PROJECT_PROCVERSION = "0"  # a project processor's name carries no version
_MAPPING = (  # what a processor file looks like, for a file that is not a mapping
    "`key: value` lines (`procyamlversion: 3.0.0-dev.0`, `inputs:`, `command:`, ...; "
    "docs/processors.md)"
)


@dataclass(frozen=True)
class ProcessorFile:
    """One processor file read: its spec, its identity and what a person should know of it."""

    spec: ProcessorSpec
    proctype: str
    procversion: str
    notes: tuple[str, ...] = ()


def parse_file_name(path: Path) -> tuple[str, str]:
    """
    (proctype, procversion) from `<name>_v<X.Y.Z>.yaml`: `fs_v7.2.0.yaml` -> (`fs_v7`, `7.2.0`).

    Raises:
        ProcessorError: the name does not have that form.
    """
    match = _FILE_NAME.match(path.name)
    if match is None:
        message = "file name must be <name>_v<X.Y.Z>.yaml, e.g. freesurfer_v7.2.0.yaml"
        if path.name.endswith("processor.yaml"):
            message += (
                " (`*_processor.yaml` is how DAX's v1/v2 files are named; a DAX v3 project"
                " processor is `processor.yaml` in a folder named for it)"
            )
        raise ProcessorError([Issue(str(path), 1, "", message)])
    if is_trial(match["name"]):
        message = f"{TRIAL_NAME_TAKEN}: rename the file without the {TRIAL_PREFIX} prefix"
        raise ProcessorError([Issue(str(path), 1, "", message)])
    return f"{match['name']}_v{match['major']}", match["version"]


def _project_identity(path: Path) -> tuple[str, str]:
    """A project processor is named for its folder (`FS7_summary/processor.yaml`)."""
    folder = path.resolve().parent.name
    if not _FOLDER_NAME.match(folder):
        message = f"a project processor is named for its folder, and {folder!r} is not a name"
        raise ProcessorError([Issue(str(path), 1, "", message)])
    return folder, PROJECT_PROCVERSION


def read_processor(path: Path) -> ProcessorFile:
    """
    Validate one processor file.

    Raises:
        ProcessorError: with every problem found, each as file:line: field: message.
    """
    data, lines = _load(str(path), partial(read_yaml_with_lines, path))
    legacy = legacy_format(data, path.name)
    if legacy:
        raise ProcessorError([Issue(str(path), 1, "", legacy)])
    project_file = path.name == _PROJECT_FILE and _has_subjects(data)
    proctype, procversion = _project_identity(path) if project_file else parse_file_name(path)
    spec = _validate(data, lines, str(path))
    notes = spec_notes(spec, data, lines, str(path), project_file=project_file)
    if not project_file:
        notes += [f"{path}:1: {n}" for n in name_notes(path.name, proctype, procversion)]
    return ProcessorFile(spec, proctype, procversion, tuple(notes))


def read_processor_file(path: Path) -> tuple[ProcessorSpec, str, str]:
    """`read_processor` as (spec, proctype, procversion)."""
    read = read_processor(path)
    return read.spec, read.proctype, read.procversion


def parse_processor_text(text: str, source: str) -> ProcessorSpec:
    """Validate YAML text as a processor spec; `source` names it in errors."""
    data, lines = _load(source, partial(load_yaml_with_lines, text))
    legacy = legacy_format(data, Path(source).name)
    if legacy:
        raise ProcessorError([Issue(source, 1, "", legacy)])
    return _validate(data, lines, source)


def _has_subjects(data: dict[str, Any]) -> bool:
    inputs = data.get("inputs")
    xnat = inputs.get("xnat") if isinstance(inputs, dict) else None
    return isinstance(xnat, dict) and "subjects" in xnat


def _load(source: str, parse: Callable[[], tuple[Any, LineMap]]) -> tuple[dict[str, Any], LineMap]:
    """
    The document, read by `parse`, as a mapping; else one issue that says what to change
    (a file that cannot be read, is not UTF-8 or not YAML, is empty, or is a list).
    """
    try:
        data, lines = parse()
    except OSError as exc:
        raise ProcessorError([Issue(source, 1, "", f"cannot read: {exc}")]) from exc
    except YamlSyntaxError as exc:
        raise ProcessorError([Issue(source, exc.line, "", str(exc))]) from exc
    if not isinstance(data, dict):
        raise ProcessorError([Issue(source, lines.line_of(()), "", _not_a_mapping(data))])
    return data, lines


def _not_a_mapping(data: Any) -> str:
    if data is None:
        return f"the file is empty (or only comments): write the processor as {_MAPPING}"
    kind = "a list" if isinstance(data, list) else f"one value ({data!r:.40})"
    return f"a processor file is a mapping, not {kind}: write it as {_MAPPING}"


def _validate(data: dict[str, Any], lines: LineMap, source: str) -> ProcessorSpec:
    try:
        spec = ProcessorSpec.model_validate(data)
    except ValidationError as exc:
        raise ProcessorError(_issues(exc, lines, source)) from exc
    findings = check_spec(spec)
    if findings:
        raise ProcessorError(
            [Issue(source, lines.line_of(p), _dotted(p), message) for p, message in findings]
        )
    return spec


def _issues(exc: ValidationError, lines: LineMap, source: str) -> list[Issue]:
    issues = []
    for error in exc.errors(include_url=False):
        loc: tuple[str | int, ...] = tuple(_loc_part(p) for p in error["loc"])
        if error["type"] == "unknown_key":
            loc = (*loc, str(error["ctx"]["key"]))
        message = _message(error)
        issues.append(Issue(source, lines.line_of(loc), _dotted(loc), message))
    return issues


def _loc_part(part: Any) -> str | int:
    return part if isinstance(part, int) else str(part)


def _message(error: Any) -> str:
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    if error["type"] == "missing":
        return "required field is missing"
    return message


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
