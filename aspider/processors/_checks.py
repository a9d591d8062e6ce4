"""
Rules that tie one part of a processor to another (names referring to names).

Each finding is (path in the document, message), so the loader can give it a line number.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Iterator

from aspider.processors._attrs import attr_names
from aspider.processors._inputs import AssessorInput, PetScanInput, ScanInput
from aspider.processors._model import CommandSpec, ProcessorSpec
from aspider.processors._trial import TRIAL_NAME_TAKEN, is_trial

Finding = tuple[tuple[str | int, ...], str]
InputSpec = ScanInput | PetScanInput | AssessorInput

BUILTIN_PLACEHOLDERS = ("assessor", "project", "subject", "session", "scan")


def _hint(name: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def iter_inputs(
    spec: ProcessorSpec,
) -> Iterator[tuple[tuple[str | int, ...], InputSpec]]:
    """Every named scan, PET scan and assessor input with its document path."""
    xnat = spec.inputs.xnat
    for i, scan in enumerate(xnat.scans):
        yield ("inputs", "xnat", "scans", i), scan
    for i, assr in enumerate(xnat.assessors):
        yield ("inputs", "xnat", "assessors", i), assr
    for i, pet in enumerate(xnat.petscans):
        yield ("inputs", "xnat", "petscans", i), pet
    for g, group in enumerate(xnat.sessions):
        for i, scan in enumerate(group.scans):
            yield ("inputs", "xnat", "sessions", g, "scans", i), scan
        for i, assr in enumerate(group.assessors):
            yield ("inputs", "xnat", "sessions", g, "assessors", i), assr


def resource_varnames(spec: ProcessorSpec) -> dict[str, str]:
    """Placeholder name -> value for every input resource (`fdest`, else the resource label)."""
    names: dict[str, str] = {}
    for _, item in iter_inputs(spec):
        for r, res in enumerate(item.all_resources):
            varname = res.varname or f"{item.name}-{res.resource}-{r}"
            names[varname] = res.fdest or res.resource
    return names


def check_spec(spec: ProcessorSpec) -> list[Finding]:
    """All cross-reference problems of one processor; empty when it is consistent."""
    findings: list[Finding] = []
    findings += _check_names(spec)
    findings += _check_trial_inputs(spec)
    findings += _check_level(spec)
    findings += _check_filters(spec)
    findings += _check_attrs(spec)
    for key in ("pre", "command", "post"):
        command = getattr(spec, key)
        if command is not None:
            findings += _check_command(spec, key, command)
    return findings


def _check_names(spec: ProcessorSpec) -> list[Finding]:
    seen: set[str] = set()
    findings: list[Finding] = []
    for path, item in iter_inputs(spec):
        if item.name in seen:
            findings.append(((*path, "name"), f"input name {item.name!r} is used twice"))
        seen.add(item.name)
    return findings


def _check_trial_inputs(spec: ProcessorSpec) -> list[Finding]:
    """A trial's assessor is never an input: naming its proctype could only ever block."""
    findings: list[Finding] = []
    for path, item in iter_inputs(spec):
        if not isinstance(item, AssessorInput):
            continue
        for proctype in item.proctype_list:
            if is_trial(proctype):
                key = "proctypes" if item.proctypes else "types"
                findings.append(((*path, key), f"{proctype}: {TRIAL_NAME_TAKEN}"))
    return findings


def _check_level(spec: ProcessorSpec) -> list[Finding]:
    xnat = spec.inputs.xnat
    findings: list[Finding] = []
    if xnat.sessions and spec.level in ("scan", "session"):
        message = f"sessions[] is for subject-level processors; this file says level: {spec.level}"
        findings.append((("inputs", "xnat", "sessions"), message))
    if xnat.subjects is not None and spec.level != "project":
        message = "subjects is for project-level processors (leave `level:` out, as DAX does)"
        findings.append((("inputs", "xnat", "subjects"), message))
    if spec.level == "scan" and not xnat.scans:
        findings.append((("level",), "a scan-level processor needs at least one scan input"))
    if xnat.subjects is not None:
        if not (xnat.subjects.sessions or xnat.subjects.assessors):
            message = "a project processor reads subjects.sessions[] or subjects.assessors[]"
            findings.append((("inputs", "xnat", "subjects"), message))
    elif not any(True for _ in iter_inputs(spec)):
        findings.append(
            (("inputs", "xnat"), "a processor needs at least one scan or assessor input")
        )
    return findings


def _check_filters(spec: ProcessorSpec) -> list[Finding]:
    inputs = {item.name: item for _, item in iter_inputs(spec)}
    findings: list[Finding] = []
    for f, flt in enumerate(spec.inputs.xnat.filters):
        path = ("inputs", "xnat", "filters", f, "inputs")
        if len(flt.input_list) < 2:
            findings.append((path, "a match filter names at least two inputs"))
        for ref in flt.input_list:
            parent = ref.split("/", 1)[0]
            if parent not in inputs:
                findings.append((path, f"no input named {parent!r}{_hint(parent, list(inputs))}"))
            elif "/" in ref and not isinstance(inputs[parent], AssessorInput):
                findings.append((path, f"{ref!r}: only an assessor input has inputs of its own"))
    return findings


def _check_attrs(spec: ProcessorSpec) -> list[Finding]:
    inputs = {item.name: item for _, item in iter_inputs(spec)}
    findings: list[Finding] = []
    for a, attr in enumerate(spec.inputs.xnat.attrs):
        path = ("inputs", "xnat", "attrs", a)
        known = attr_names(attr.object, attr.ref is not None)
        if attr.attr not in known:
            new = attr.object == "assessor" and attr.ref is None
            owner = "the new assessor" if new else f"a {attr.object}"
            msg = f"{owner} has no attribute {attr.attr!r}{_hint(attr.attr, known)}"
            if attr.object == "assessor" and attr.ref is None and attr.attr in ("ID", "id"):
                msg = (
                    "the new assessor's ID is given by XNAT when it is created, after its command "
                    "is written; use `attr: label`"
                )
            findings.append(((*path, "attr"), msg))
        if attr.object == "scan" and attr.ref is None:
            msg = "a scan attribute needs `ref` (the name of a scan input)"
            findings.append(((*path, "ref"), msg))
        if attr.ref is not None:
            findings += _check_ref(path, attr.object, attr.ref, inputs.get(attr.ref), inputs)
    return findings


def _check_ref(
    path: tuple[str | int, ...],
    obj: str,
    ref: str,
    target: InputSpec | None,
    inputs: dict[str, InputSpec],
) -> list[Finding]:
    """`ref` names an input of the attr's kind (DAX ignores it on subject and session attrs)."""
    if target is None:
        return [((*path, "ref"), f"no input named {ref!r}{_hint(ref, list(inputs))}")]
    is_assessor = isinstance(target, AssessorInput)
    if obj == "scan" and is_assessor:
        return [((*path, "ref"), f"{ref!r} is an assessor input, not a scan")]
    if obj == "assessor" and not is_assessor:
        return [((*path, "ref"), f"{ref!r} is a scan input, not an assessor")]
    return []


def _check_command(spec: ProcessorSpec, key: str, command: CommandSpec) -> list[Finding]:
    findings: list[Finding] = []
    names = [c.name for c in spec.containers]
    if command.type != "shell":
        if command.container is None and len(names) != 1:
            findings.append(((key, "container"), "name the container to run (containers[].name)"))
        elif command.container is not None and command.container not in names:
            msg = f"no container named {command.container!r}{_hint(command.container, names)}"
            findings.append(((key, "container"), msg))
    known = placeholder_names(spec)
    for field_name in ("args", "script", "opts", "extraopts"):
        text = getattr(command, field_name)
        if not text:
            continue
        try:
            used = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError as exc:
            findings.append(((key, field_name), f"bad placeholder syntax: {exc}"))
            continue
        for name in used:
            if name not in known:
                msg = f"unknown placeholder {{{name}}}{_hint(name, sorted(known))}"
                findings.append(((key, field_name), msg))
    return findings


def placeholder_names(spec: ProcessorSpec) -> set[str]:
    """Every name a command may use as `{name}`."""
    names = set(BUILTIN_PLACEHOLDERS) | set(spec.inputs.vars)
    names |= set(resource_varnames(spec))
    names |= {attr.varname for attr in spec.inputs.xnat.attrs}
    names |= {edit.varname for edit in spec.inputs.xnat.edits}
    return names
