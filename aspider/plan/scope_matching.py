"""
Matching (pure): a scope of a snapshot + a processor -> task candidates.

One candidate per combination of inputs (the cartesian product over every input's matching
scans or assessors, each list first reduced by `keep_multis`, then reduced by the `match`
filters). A candidate is ready, or blocked with precise reasons (`scan 301: no NIFTI resource`,
`assr_fs: freesurfer_v7 is JOB_RUNNING`). When an input has nothing to match at all, the
processor does not apply to the scope: that is reported (`NotApplicable`) and creates nothing,
as DAX does, so a project is not littered with assessors for data it never had.
"""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from aspider.plan.artefacts import (
    Artefact,
    AssessorArtefact,
    ScanArtefact,
    ScopeIndex,
    dax_path,
    scope_index,
)
from aspider.plan.labels import InputsKey
from aspider.plan.resolve import resolve, scan_name
from aspider.plan.sessions import is_mr, pet_sessions
from aspider.plan.tasks import (
    CandidateDetail,
    MatchResult,
    NotApplicable,
    ResolvedInput,
    TaskCandidate,
)
from aspider.processors import (
    AttrInput,
    CompiledInput,
    CompiledProcessor,
    FilterRef,
    PetScanInput,
    ScanInput,
    attr_field,
)
from xnat_client.models import Session

if TYPE_CHECKING:
    from aspider.plan.scopes import Scope
    from aspider.processors import Processor


ANALYSES_NOT_RUN = (
    "a DAX project analysis (inputs.xnat.subjects): loaded and checked, not run by aspider"
)
Combo = tuple[Artefact | None, ...]  # one artefact (or None for an absent optional input) per input


def match_scope(processor: Processor, scope: Scope) -> MatchResult:
    """Every candidate of `processor` in `scope` (pure)."""
    combos, missing = _combos(processor, scope)
    if missing:
        return MatchResult((), _not_applicable(processor, scope, missing))
    if not combos:
        described = "; ".join("match(" + ", ".join(f) + ")" for f in processor.compiled.filters)
        reason = f"no combination of inputs passes the filters {described}"
        return MatchResult((), _not_applicable(processor, scope, [reason]))
    return MatchResult(tuple(_candidate(processor, scope, combo) for combo in combos), None)


def candidate_keys(processor: Processor, scope: Scope) -> list[InputsKey]:
    """
    The keys of `match_scope`'s candidates, in the same order, without building candidates.

    The nightly sweep asks this of every (processor, session) pair to see that each candidate
    already has its assessor; building full candidates there would cost most of the sweep.
    """
    compiled = processor.compiled
    return [_key(compiled, combo) for combo in _combos(processor, scope)[0]]


def _combos(processor: Processor, scope: Scope) -> tuple[list[Combo], list[str]]:
    """The input combinations that pass the filters, or why an input has nothing to take."""
    compiled = processor.compiled
    if processor.spec.inputs.xnat.subjects is not None:
        return [], [ANALYSES_NOT_RUN]
    index = scope_index(scope)
    lists: list[Sequence[Artefact | None]] = []
    missing: list[str] = []
    options: Sequence[Artefact]
    for ci in compiled.inputs:
        if ci.tracers is not None:
            sessions = pet_sessions(scope, ci.tracers)
        elif ci.group_index is None:
            sessions = scope.sessions
        else:
            sessions = _sessions_for(processor, ci, scope)
        if ci.kind == "scan":
            options, why = _scan_options(ci, sessions, scope, index)
        else:
            options, why = _assessor_options(ci, sessions, index)
        if options:
            lists.append(options)
        elif ci.optional:
            lists.append((None,))
        else:
            missing.append(why)
    if missing:
        return [], missing
    refs = compiled.filter_refs
    if len(lists) == 1:
        return [(art,) for art in lists[0]], []
    combos = itertools.product(*lists)
    if not refs:
        return list(combos), []
    return [combo for combo in combos if all(_passes(f, combo) for f in refs)], []


def _key(compiled: CompiledProcessor, combo: Combo) -> tuple[tuple[str, str], ...]:
    """A candidate's identity: (input name, XNAT path) pairs sorted by input name."""
    inputs = compiled.inputs
    order = compiled.key_order
    return tuple([(inputs[i].name, a.path) for i in order if (a := combo[i]) is not None])


def _not_applicable(processor: Processor, scope: Scope, reasons: list[str]) -> NotApplicable:
    anchor = scope.anchor
    return NotApplicable(processor.proctype, scope.project, anchor.id, anchor.label, tuple(reasons))


def _sessions_for(processor: Processor, ci: CompiledInput, scope: Scope) -> tuple[Session, ...]:
    """
    The subject's sessions a `sessions[]` group draws on: DAX's `select: first-mri` (the
    subject's first MR session by date, if it passes the rest), session types (globs on
    XNAT's session_type, or on the XSI type) and tracers; aspider's `first` and `last`.
    """
    assert ci.group_index is not None
    group = processor.spec.inputs.xnat.sessions[ci.group_index]
    chosen = list(scope.sessions)
    if group.select == "first-mri":
        chosen = [s for s in chosen if is_mr(s)][:1]
    types, tracers = group.session_type_globs, group.tracer_globs
    chosen = [
        s
        for s in chosen
        if _any_glob((s.session_type, s.xsi_type), types) and _any_glob((s.tracer,), tracers)
    ]
    if group.select == "first":
        chosen = chosen[:1]
    elif group.select == "last":
        chosen = chosen[-1:]
    return tuple(chosen)


def _any_glob(values: tuple[str, ...], globs: tuple[str, ...]) -> bool:
    return not globs or any(fnmatch.fnmatchcase(v, g) for v in values for g in globs)


def _scan_options(
    ci: CompiledInput, sessions: tuple[Session, ...], scope: Scope, index: ScopeIndex
) -> tuple[list[ScanArtefact], str]:
    """The scans an input can take, and why there is none when there is none."""
    spec = ci.spec
    assert isinstance(spec, ScanInput | PetScanInput)
    matches = ci.type_cache
    prefixes = index.prefixes
    matched = [
        ScanArtefact(s, f"{prefixes.get(s.id) or dax_path(scope.project, s)}/scans/{c.id}", c, None)
        for s in sessions
        for c in s.scans
        if matches[c.type]
    ]
    skipped: list[ScanArtefact] = []
    if spec.skip_unusable:
        usable = [art for art in matched if art.scan.quality.lower() != "unusable"]
        if len(usable) < len(matched):
            skipped = [art for art in matched if art not in usable]
        matched = usable
    if not matched:
        why = f"{ci.name}: no scan with type {' or '.join(ci.globs)}"
        if skipped:
            unusable = (
                f"{scan_name(a.scan, a.session, scope)}: quality is unusable" for a in skipped
            )
            why += " (" + "; ".join(unusable) + ")"
        return [], why
    if spec.keep_multis != "all":
        return _keep_multis(ci, spec, matched, sessions)
    return matched, ""


def _keep_multis(
    ci: CompiledInput,
    spec: ScanInput | PetScanInput,
    matched: list[ScanArtefact],
    sessions: tuple[Session, ...],
) -> tuple[list[ScanArtefact], str]:
    """DAX's rule: order by lower-cased scan ID as text (per session), pick by position."""
    if len(matched) > 1:
        order = {s.id: n for n, s in enumerate(sessions)}
        matched = sorted(matched, key=lambda a: (order[a.session.id], a.scan.id.lower()))
    position = {"first": 1, "last": len(matched)}.get(spec.keep_multis) or int(spec.keep_multis)
    if position > len(matched):
        globs = " or ".join(ci.globs)
        found = len(matched)
        return [], f"{ci.name}: keep_multis {position} but only {found} scan(s) with type {globs}"
    return [matched[position - 1]], ""


def _assessor_options(
    ci: CompiledInput, sessions: tuple[Session, ...], index: ScopeIndex
) -> tuple[list[AssessorArtefact], str]:
    proctypes = ci.proctypes
    options = [
        art for s in sessions for art in index.assessors[s.id] if art.assessor.proctype in proctypes
    ]
    if options:
        return options, ""
    return [], f"{ci.name}: no {' or '.join(ci.globs)} assessor"


def _passes(refs: tuple[FilterRef, ...], combo: Combo) -> bool:
    first = _filter_value(refs[0], combo)
    return first is not None and all(_filter_value(ref, combo) == first for ref in refs[1:])


def _filter_value(ref: FilterRef, combo: Combo) -> Any:
    position, child = ref
    art = combo[position] if position >= 0 else None
    if art is None:
        return None
    if not child:
        return art.path
    upstream = art.upstream_inputs()
    return None if upstream is None else upstream.get(child)


def _candidate(processor: Processor, scope: Scope, combo: Combo) -> TaskCandidate:
    anchor = scope.anchor
    compiled = processor.compiled
    scan_id = None
    if processor.level == "scan":
        scan_id = next(a.scan.id for a in combo if a is not None and a.scan is not None)
    key = _key(compiled, combo)
    own = processor.level == "subject"  # the subject's own assessor: no session
    return TaskCandidate(
        processor.proctype,
        processor.level,
        scope.project,
        anchor.subject_id,
        anchor.subject_label,
        "" if own else anchor.id,
        "" if own else anchor.label,
        scan_id,
        key,
        partial(_detail, compiled, scope, combo),
    )


def _detail(compiled: CompiledProcessor, scope: Scope, combo: Combo) -> CandidateDetail:
    inputs: list[ResolvedInput] = []
    reasons: list[str] = []
    for ci, art in zip(compiled.inputs, combo, strict=True):
        if art is not None:
            resolved, why = resolve(ci, art, scope)
            inputs.append(resolved)
            reasons += why
    values, attr_reasons = _attrs(compiled, scope, combo)
    return CandidateDetail(tuple(inputs), tuple(reasons + attr_reasons), values)


def _attrs(
    compiled: CompiledProcessor, scope: Scope, combo: Combo
) -> tuple[tuple[tuple[str, str], ...], list[str]]:
    """
    The XNAT attributes the command reads. The new assessor's own (`object: assessor` without
    `ref`) are the candidate's, bound with its label when the task is built.
    """
    values: list[tuple[str, str]] = []
    reasons: list[str] = []
    for spec in compiled.attrs:
        if spec.object == "assessor" and spec.ref is None:
            continue
        value = _attr_value(spec, scope, compiled, combo)
        if value:
            values.append((spec.varname, value))
        else:
            reasons.append(f"{spec.varname}: {spec.object} attribute {spec.attr} is empty")
    return tuple(values), reasons


def _attr_value(spec: AttrInput, scope: Scope, compiled: CompiledProcessor, combo: Combo) -> str:
    name = attr_field(spec.object, spec.ref is not None, spec.attr)
    source: Any
    if spec.object == "subject":
        subject = {"id": scope.subject_id, "label": scope.subject_label, "project": scope.project}
        return subject.get(name, "")
    if spec.object == "session":
        source = scope.anchor
        if name == "modality":
            return modality(source)
    else:
        position = compiled.position.get(spec.ref or "")
        art = None if position is None else combo[position]
        source = None if art is None else (art.scan or art.assessor)
        if art is not None and name == "session_label":
            return art.session.label
    value = getattr(source, name, None) if source is not None else None
    return "" if value is None else str(value)


def modality(session: Session) -> str:
    """`xnat:mrSessionData` -> `MR`, as XNAT's `modality` column has it."""
    kind = session.xsi_type.split(":")[-1]
    return kind[: -len("SessionData")].upper() if kind.endswith("SessionData") else ""
