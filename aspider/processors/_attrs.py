"""
The XNAT attributes a processor's `attrs` may read, by object, as DAX names them.

DAX reads an attribute with pyxnat's `attrs.get(<attr>)`, so its files use XNAT's own names
(`ID`, `label`, `project`, `subject_label`); aspider's earlier lower-case spellings (`id`,
`qcstatus`) are kept as well. Each written name maps to the field the planner reads.
"""

from __future__ import annotations

from typing import Literal

AttrObject = Literal["subject", "session", "scan", "assessor", "new"]

_ID = {"ID": "id", "id": "id"}

ATTRS: dict[AttrObject, dict[str, str]] = {
    "subject": {**_ID, "label": "label", "project": "project"},
    "session": {
        **_ID,
        "label": "label",
        "project": "project",
        "subject_ID": "subject_id",
        "subject_label": "subject_label",
        "date": "date",
        "session_type": "session_type",
        "modality": "modality",
        "xsi_type": "xsi_type",
        "tracer": "tracer",
    },
    "scan": {
        **_ID,
        "type": "type",
        "series_description": "series_description",
        "quality": "quality",
        "note": "note",
        "frames": "frames",
        "xsi_type": "xsi_type",
    },
    "assessor": {
        **_ID,
        "label": "label",
        "project": "project",
        "session_label": "session_label",
        "proctype": "proctype",
        "procversion": "procversion",
        "procstatus": "procstatus",
        "validation/status": "qcstatus",
        "qcstatus": "qcstatus",
        "jobid": "jobid",
    },
    # `object: assessor` without `ref`: the assessor being built, as far as it is known before
    # XNAT creates it (its ID is not).
    "new": {
        "label": "label",
        "project": "project",
        "subject_label": "subject_label",
        "session_label": "session_label",
        "proctype": "proctype",
        "procversion": "procversion",
    },
}


def attr_object(obj: str, has_ref: bool) -> AttrObject:
    """Which table an attr reads: `assessor` without `ref` is the new assessor."""
    if obj == "assessor" and not has_ref:
        return "new"
    assert obj in ("subject", "session", "scan", "assessor")
    return obj  # type: ignore[return-value]


def attr_names(obj: str, has_ref: bool) -> tuple[str, ...]:
    """The names an attr of `obj` may use (for checks and "did you mean")."""
    return tuple(ATTRS[attr_object(obj, has_ref)])


def attr_field(obj: str, has_ref: bool, name: str) -> str:
    """The field the planner reads for a written attribute name."""
    return ATTRS[attr_object(obj, has_ref)][name]
