"""
Reading processor files: name -> identity, YAML -> spec, and every problem -> file:line: field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aspider._exceptions import Issue, ProcessorError
from aspider.processors._checks import check_spec
from aspider.processors._graph import check_graph
from aspider.processors._model import ProcessorSpec
from aspider.processors._python import Processor, load_processor_class
from aspider.processors._yaml import LineMap, YamlSyntaxError, load_yaml_with_lines

# `<name>_v<X.Y.Z>.yaml` (semantic version, optional pre-release/build), as DAX requires.
_FILE_NAME = re.compile(
    r"^(?P<name>[\w-]+)_v(?P<version>(?P<major>0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)\.ya?ml$"
)


def parse_file_name(path: Path) -> tuple[str, str]:
    """
    (proctype, procversion) from `<name>_v<X.Y.Z>.yaml`: `fs_v7.2.0.yaml` -> (`fs_v7`, `7.2.0`).

    Raises:
        ProcessorError: the name does not have that form.
    """
    match = _FILE_NAME.match(path.name)
    if match is None:
        message = "file name must be <name>_v<X.Y.Z>.yaml, e.g. freesurfer_v7.2.0.yaml"
        raise ProcessorError([Issue(str(path), 1, "", message)])
    return f"{match['name']}_v{match['major']}", match["version"]


def read_processor_file(path: Path) -> tuple[ProcessorSpec, str, str]:
    """
    Validate one processor file: (spec, proctype, procversion).

    Raises:
        ProcessorError: with every problem found, each as file:line: field: message.
    """
    proctype, procversion = parse_file_name(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProcessorError([Issue(str(path), 1, "", f"cannot read: {exc}")]) from exc
    return parse_processor_text(text, str(path)), proctype, procversion


def parse_processor_text(text: str, source: str) -> ProcessorSpec:
    """Validate YAML text as a processor spec; `source` names it in errors."""
    try:
        data, lines = load_yaml_with_lines(text)
    except YamlSyntaxError as exc:
        raise ProcessorError([Issue(source, exc.line, "", f"invalid YAML: {exc}")]) from exc
    if not isinstance(data, dict):
        raise ProcessorError([Issue(source, 1, "", "a processor file is a YAML mapping")])
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


def load_processor(path: str | Path) -> Processor:
    """One YAML processor file as a `Processor`."""
    file = Path(path)
    spec, proctype, procversion = read_processor_file(file)
    return Processor(spec, proctype=proctype, procversion=procversion, source=str(file))


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, directories as their `*.yaml`/`*.yml` files in name order."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        else:
            files.append(path)
    return files


def load_processors(
    paths: Iterable[str | Path] = (), classes: Iterable[str] = ()
) -> list[Processor]:
    """
    Load YAML processors (files or directories) and `module:Class` processors, then check them
    as a set: unique proctypes and an acyclic dependency graph.

    Raises:
        ProcessorError: every invalid file's issues together.
        ProcessorCycleError: processors take each other's assessors as inputs in a cycle.
    """
    processors: list[Processor] = []
    issues: list[Issue] = []
    for file in expand_paths(paths):
        try:
            processors.append(load_processor(file))
        except ProcessorError as exc:
            issues += exc.issues
    for reference in classes:
        try:
            processors.append(load_processor_class(reference))
        except ProcessorError as exc:
            issues += exc.issues
    seen: dict[str, str] = {}
    for proc in processors:
        if proc.proctype in seen:
            message = f"proctype {proc.proctype} is also defined by {seen[proc.proctype]}"
            issues.append(Issue(proc.source, 1, "", message))
        seen[proc.proctype] = proc.source
    if issues:
        raise ProcessorError(issues)
    check_graph(processors)
    return processors
