"""
What a person should know about a processor file that is not an error: DAX's older formats
(refused, on line 1), and the keys DAX reads nothing of or reads differently (notes).

Notes are shown by `aspider processors`; they never stop a file from loading.
"""

from __future__ import annotations

from typing import Any

from aspider.processors._checks import iter_inputs
from aspider.processors._model import ProcessorSpec
from aspider.processors._yaml import LineMap

DAX_V3 = "3.0.0-dev.0"  # the one procyamlversion DAX 2.x reads as its v3 format
_V3_POINTER = (
    "aspider reads DAX's v3 format (procyamlversion: 3.0.0-dev.0, inputs.xnat.scans/"
    "assessors, command.type); see docs/processors.md, 'Coming from DAX'"
)


def legacy_format(data: dict[str, Any], file_name: str) -> str:
    """The line that refuses a DAX v1/v2 file, or "" for anything else."""
    inputs = data.get("inputs")
    if data.get("moreauto"):
        return f"a DAX v2 processor (moreauto: true); {_V3_POINTER}"
    if isinstance(inputs, dict) and "default" in inputs:
        return f"a DAX v1 processor (inputs.default: spider and code paths); {_V3_POINTER}"
    if isinstance(data.get("command"), str) and "procyamlversion" not in data:
        return f"a DAX v1/v2 processor (command is a line of text); {_V3_POINTER}"
    return ""


def spec_notes(
    spec: ProcessorSpec, data: dict[str, Any], lines: LineMap, source: str, *, project_file: bool
) -> list[str]:
    """Notes on one valid file, each as `file:line: text`."""

    def at(path: tuple[str | int, ...], text: str) -> str:
        return f"{source}:{lines.line_of(path)}: {text}"

    notes: list[str] = []
    version = data.get("procyamlversion")
    if not project_file and version != DAX_V3:
        said = "no procyamlversion" if version is None else f"procyamlversion {version!r}"
        notes.append(
            at(
                ("procyamlversion",),
                f"{said}: DAX 2.x reads only {DAX_V3} as its v3 format (and this file as v1)",
            )
        )
    if spec.jobdir is not None:
        notes.append(
            at(("jobdir",), "jobdir is a DAX v2 key; DAX v3 and aspider read nothing of it")
        )
    if spec.requirements.env is not None:
        notes.append(
            at(("requirements", "env"), "requirements.env is not used: the job never sources it")
        )
    for path, item in iter_inputs(spec):
        if getattr(item, "require_usable", False) and not item.needs_qc:
            notes.append(
                at(
                    (*path, "require_usable"),
                    "require_usable does nothing without needs_qc: true (as in DAX)",
                )
            )
    counted = [
        (*path, "resources", r, "fcount")
        for path, item in iter_inputs(spec)
        for r, res in enumerate(item.resources)
        if res.fcount is not None
    ]
    if counted:
        notes.append(at(counted[0], "fcount is not used (DAX reads nothing of it either)"))
    for path, item in iter_inputs(spec):
        if getattr(item, "nifti", None) and path[-2] == "assessors":
            notes.append(
                at((*path, "nifti"), "nifti on an assessor input is not used (nor by DAX)")
            )
    return notes


def name_notes(file_name: str, proctype: str, procversion: str) -> list[str]:
    """Where DAX 2.x would read this file's name differently (it splits at every `.`/`_v`)."""
    stem = file_name.rsplit(".", 1)[0]
    parts = file_name.split(".")
    dax_proctype = parts[-4] if len(parts) >= 4 else ""
    dax_version = stem.split("_v")[1] if "_v" in stem else ""
    notes = []
    if dax_proctype != proctype:
        notes.append(
            f"DAX 2.x names this file's proctype {dax_proctype!r}, not {proctype!r}: assessors "
            "DAX made from it are not recognised as this processor's"
        )
    if dax_version != procversion:
        notes.append(
            f"DAX 2.x writes procversion {dax_version!r} for this file, not {procversion!r}"
        )
    return notes
