"""
Assessor identity: the canonical `inputs` JSON and the label derived from it.

DAX labels end in 8 random hex digits, so creating the same assessor twice makes two. aspider
derives those digits from the resolved inputs instead: the same task always gets the same label,
and creating it again is the same PUT. Existing assessors (DAX's included) are recognised by
proctype and `inputs`, never by label, so a random-suffixed DAX assessor is adopted as it is.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from json.encoder import encode_basestring as _encode
from typing import Any

LABEL_SEPARATOR = "-x-"


def canonical_inputs_json(inputs: Mapping[str, str]) -> str:
    """The `inputs` field as written to XNAT: input name -> XNAT path, sorted and compact."""
    # Equal to json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False), faster.
    items = sorted(inputs.items())
    return "{" + ",".join(_encode(k) + ":" + _encode(v) for k, v in items) + "}"


def inputs_digest(canonical_json: str) -> str:
    """The 8 hex digits of a label: the head of the SHA-256 of the canonical inputs JSON."""
    return hashlib.sha256(canonical_json.encode("utf-8")).hexdigest()[:8]


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def label_part(text: str) -> str:
    """
    A label component XNAT, a scheduler and a path all accept: `[A-Za-z0-9_-]`, others as `_`.

    Subject and session labels can hold anything (quotes, `;`, spaces, unicode); the assessor
    label becomes the job name and the job directory, so it keeps only safe characters. Two
    labels that differ only in such characters still differ in their inputs digest.
    """
    return _UNSAFE.sub("_", text)


def assessor_label(project: str, subject: str, session: str, proctype: str, digest: str) -> str:
    """`PROJ-x-SUBJ-x-SESS-x-PROCTYPE-x-<8 hex>`, DAX's v3 label form, in safe characters."""
    parts = (project, subject, session, proctype)
    return LABEL_SEPARATOR.join((*(label_part(p) for p in parts), digest))


_DIGEST = re.compile(r"^[0-9a-f]{8}$")


def proctype_of_label(label: str) -> str | None:
    """
    The proctype a DAX-form label names: the part before its 8 hex digits
    (`PROJ-x-SUBJ-x-SESS-x-fs7_v1-x-0a1b2c3d`), or its last part in DAX's older form without
    them; None for a label of another form.
    """
    parts = label.split(LABEL_SEPARATOR)
    if len(parts) < 2:
        return None
    found = parts[-2] if _DIGEST.match(parts[-1]) else parts[-1]
    return found or None


def subject_assessor_label(project: str, subject: str, proctype: str, digest: str) -> str:
    """`PROJ-x-SUBJ-x-PROCTYPE-x-<8 hex>`: DAX's label of a subject's own assessor."""
    parts = (project, subject, proctype)
    return LABEL_SEPARATOR.join((*(label_part(p) for p in parts), digest))


def normalise_inputs(inputs: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """
    Inputs in a form two writers agree on: DAX sometimes wraps a single path in a list.

    Returns None for a missing or empty field, which marks an assessor that cannot be matched.
    """
    if not inputs:
        return None
    out: dict[str, Any] = {}
    for key, value in inputs.items():
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        out[str(key)] = value
    return out


InputsKey = tuple[tuple[str, str], ...] | str


def inputs_key(inputs: Mapping[str, Any]) -> InputsKey:
    """
    A hashable key for comparing an assessor's inputs with a candidate's `key`: the sorted
    (name, path) pairs, or canonical JSON when a value is not a plain path (never equal then).
    """
    if all(isinstance(v, str) for v in inputs.values()):
        return tuple(sorted(inputs.items()))
    return json.dumps(
        inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def assessor_inputs_key(inputs: Mapping[str, Any] | None) -> InputsKey | None:
    """
    `inputs_key(normalise_inputs(inputs))`, None for an assessor without inputs.

    The common case (every value a plain path) skips building the normalised copy: the planner
    asks this once for every assessor of every sweep.
    """
    if not inputs:
        return None
    items = sorted(inputs.items())
    if all(type(k) is str and type(v) is str for k, v in items):
        return tuple(items)
    normalised = normalise_inputs(inputs)
    return None if normalised is None else inputs_key(normalised)
