"""
A processor's inputs compiled once: glob regexes, input positions, filter references.

Matching runs for every (processor, session) pair of a sweep, tens of thousands of times a
night; what depends only on the processor is worked out here, when it is loaded.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from aspider.processors._checks import iter_inputs
from aspider.processors._inputs import AssessorInput, AttrInput, PetScanInput, ScanInput

if TYPE_CHECKING:
    from aspider.processors._python import Processor


class _TypeCache(dict[str, bool]):
    """Scan type -> whether the input's globs match it; each type is matched once."""

    def __init__(self, regex: re.Pattern[str]) -> None:
        super().__init__()
        self.regex = regex

    def __missing__(self, scan_type: str) -> bool:
        hit = self[scan_type] = self.regex.match(scan_type) is not None
        return hit


@dataclass(frozen=True, slots=True)
class CompiledInput:
    name: str
    kind: Literal["scan", "assessor"]
    spec: ScanInput | PetScanInput | AssessorInput
    group_index: int | None  # index into inputs.xnat.sessions, None for top-level inputs
    optional: bool
    regex: re.Pattern[str]
    proctypes: frozenset[str]
    globs: tuple[str, ...]  # scan type globs or proctypes, as written (for reasons)
    tracers: re.Pattern[str] | None = None  # a PET input: globs on the PET session's tracer
    type_cache: dict[str, bool] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "type_cache", _TypeCache(self.regex))


FilterRef = tuple[int, str]  # (position of the input, name inside its `inputs` or "")


@dataclass(frozen=True, slots=True)
class CompiledProcessor:
    inputs: tuple[CompiledInput, ...]
    filters: tuple[tuple[str, ...], ...]
    attrs: tuple[AttrInput, ...]
    filter_refs: tuple[tuple[FilterRef, ...], ...] = ()
    key_order: tuple[int, ...] = ()  # input positions sorted by name: a candidate key's order
    position: dict[str, int] = field(default_factory=dict)  # input name -> position


def compile_processor(processor: Processor) -> CompiledProcessor:
    """Precompute glob regexes and input order once per processor, not once per session."""
    compiled = []
    for path, item in iter_inputs(processor.spec):
        group = _int_or_none(path[3]) if path[2] == "sessions" else None
        resources = item.all_resources
        optional = bool(resources) and not any(r.required for r in resources)
        if isinstance(item, ScanInput | PetScanInput):
            globs = item.type_globs
            regex = glob_regex(globs)
            tracers = glob_regex(item.tracer_globs) if isinstance(item, PetScanInput) else None
            ci = CompiledInput(
                item.name, "scan", item, group, optional, regex, frozenset(), globs, tracers
            )
        else:
            globs = item.proctype_list
            never = re.compile("(?!)")
            ci = CompiledInput(
                item.name, "assessor", item, group, optional, never, frozenset(globs), globs
            )
        compiled.append(ci)
    xnat = processor.spec.inputs.xnat
    filters = tuple(f.input_list for f in xnat.filters)
    position = {ci.name: i for i, ci in enumerate(compiled)}
    refs = tuple(tuple(_filter_ref(name, position) for name in f) for f in filters)
    order = tuple(sorted(range(len(compiled)), key=lambda i: compiled[i].name))
    return CompiledProcessor(tuple(compiled), filters, xnat.attrs, refs, order, position)


def glob_regex(globs: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for DAX's comma-separated shell patterns (whole string, case-sensitive)."""
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs) or "(?!)")


def _filter_ref(name: str, position: dict[str, int]) -> FilterRef:
    parent, _, child = name.partition("/")
    return position.get(parent, -1), child


def _int_or_none(value: str | int | None) -> int | None:
    return value if isinstance(value, int) else None
