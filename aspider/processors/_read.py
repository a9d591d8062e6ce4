"""
Reading one processor file: name -> identity, YAML -> spec, every problem -> file:line: field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aspider._exceptions import Issue, ProcessorError
from aspider.processors._checks import check_spec
from aspider.processors._model import ProcessorSpec
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
