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
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from aspider.labels import normalise_inputs
from aspider.processors._checks import iter_inputs
from aspider.processors._model import AssessorInput, AttrInput, ResourceSpec, ScanInput
from aspider.states import QC_PASSED, QC_RERUN, ProcStatus, normalise_procstatus
from aspider.tasks import (
    CandidateDetail,
    InputResource,
    Level,
    NotApplicable,
    ResolvedInput,
    TaskCandidate,
)
from xnat_client._models import Assessor, ProjectSnapshot, Scan, Session

if TYPE_CHECKING:
    from aspider.processors._python import Processor


@dataclass(frozen=True, slots=True)
class Scope:
    """The data one task may draw on: one session, or a subject's or a project's sessions."""

    project: str
    level: Level
    subject_id: str
    subject_label: str
    anchor: Session  # the session the assessor lives on
    sessions: tuple[Session, ...]


@dataclass(frozen=True, slots=True)
class MatchResult:
    candidates: tuple[TaskCandidate, ...] = ()
    not_applicable: NotApplicable | None = None


def session_order(session: Session) -> tuple[str, str]:
    """Oldest first; sessions without a date last; label breaks ties."""
    return (session.date or "9999-99-99", session.label)


def iter_scopes(snapshot: ProjectSnapshot, level: Level) -> Iterator[Scope]:
    """The scopes of a project at a level, each anchored on a session that holds the assessor."""
    if level in ("scan", "session"):
        for s in snapshot.sessions:
            yield Scope(snapshot.project, level, s.subject_id, s.subject_label, s, (s,))
        return
    groups: dict[str, list[Session]] = defaultdict(list)
    for s in snapshot.sessions:
        groups[s.subject_id if level == "subject" else ""].append(s)
    for sessions in groups.values():
        ordered = tuple(sorted(sessions, key=session_order))
        first = ordered[0]
        yield Scope(snapshot.project, level, first.subject_id, first.subject_label, first, ordered)


# --- compiled processors ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledInput:
    name: str
    kind: Literal["scan", "assessor"]
    spec: ScanInput | AssessorInput
    group_index: int | None  # index into inputs.xnat.sessions, None for top-level inputs
    optional: bool
    regex: re.Pattern[str]
    proctypes: frozenset[str]
    type_cache: dict[str, bool] = field(default_factory=dict)

    def type_matches(self, scan_type: str) -> bool:
        hit = self.type_cache.get(scan_type)
        if hit is None:
            hit = self.type_cache[scan_type] = self.regex.match(scan_type) is not None
        return hit


@dataclass(frozen=True, slots=True)
class CompiledProcessor:
    inputs: tuple[CompiledInput, ...]
    filters: tuple[tuple[str, ...], ...]
    attrs: tuple[AttrInput, ...]


def compile_processor(processor: Processor) -> CompiledProcessor:
    """Precompute glob regexes and input order once per processor, not once per session."""
    compiled = []
    for path, item in iter_inputs(processor.spec):
        group = path[3] if path[2] == "sessions" else None
        resources = item.all_resources
        optional = bool(resources) and not any(r.required for r in resources)
        if isinstance(item, ScanInput):
            pattern = "|".join(f"(?:{fnmatch.translate(g)})" for g in item.type_globs)
            compiled.append(
                CompiledInput(
                    item.name,
                    "scan",
                    item,
                    _int_or_none(group),
                    optional,
                    re.compile(pattern),
                    frozenset(),
                )
            )
        else:
            compiled.append(
                CompiledInput(
                    item.name,
                    "assessor",
                    item,
                    _int_or_none(group),
                    optional,
                    re.compile("(?!)"),
                    frozenset(item.proctype_list),
                )
            )
    xnat = processor.spec.inputs.xnat
    return CompiledProcessor(tuple(compiled), tuple(f.input_list for f in xnat.filters), xnat.attrs)


def _int_or_none(value: str | int | None) -> int | None:
    return value if isinstance(value, int) else None


# --- matching ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Option:
    """One scan or assessor an input could take; resolved in detail only when needed."""

    ci: CompiledInput
    session: Session
    path: str
    scan: Scan | None = None
    assessor: Assessor | None = None


def match_scope(processor: Processor, scope: Scope) -> MatchResult:
    """Every candidate of `processor` in `scope` (pure)."""
    compiled = processor.compiled
    names: list[str] = []
    lists: list[Sequence[_Option | None]] = []
    missing: list[str] = []
    for ci in compiled.inputs:
        sessions = scope.sessions if ci.group_index is None else _sessions_for(processor, ci, scope)
        options, why = (_scan_options if ci.kind == "scan" else _assessor_options)(
            ci, sessions, scope
        )
        if not options and not ci.optional:
            missing.append(why)
            continue
        names.append(ci.name)
        lists.append(options or [None])
    if missing:
        return MatchResult((), _not_applicable(processor, scope, missing))
    candidates = []
    filters = compiled.filters
    combos = ((o,) for o in lists[0]) if len(lists) == 1 else itertools.product(*lists)
    for combo in combos:
        chosen = {n: o for n, o in zip(names, combo, strict=True) if o is not None}
        if not filters or all(_passes(f, chosen) for f in filters):
            candidates.append(_candidate(processor, scope, chosen))
    if not candidates:
        described = "; ".join("match(" + ", ".join(f) + ")" for f in compiled.filters)
        reason = f"no combination of inputs passes the filters {described}"
        return MatchResult((), _not_applicable(processor, scope, [reason]))
    return MatchResult(tuple(candidates), None)


def _not_applicable(processor: Processor, scope: Scope, reasons: list[str]) -> NotApplicable:
    anchor = scope.anchor
    return NotApplicable(processor.proctype, scope.project, anchor.id, anchor.label, tuple(reasons))


def _sessions_for(processor: Processor, ci: CompiledInput, scope: Scope) -> tuple[Session, ...]:
    assert ci.group_index is not None
    group = processor.spec.inputs.xnat.sessions[ci.group_index]
    chosen = [s for s in scope.sessions if _session_type_ok(s, group.session_type_globs)]
    if group.select == "first-mri":
        chosen = [s for s in chosen if "mr" in s.xsi_type.lower()][:1]
    elif group.select == "first":
        chosen = chosen[:1]
    elif group.select == "last":
        chosen = chosen[-1:]
    return tuple(chosen)


def _session_type_ok(session: Session, globs: tuple[str, ...]) -> bool:
    return not globs or any(fnmatch.fnmatchcase(session.xsi_type, g) for g in globs)


def _scan_options(
    ci: CompiledInput, sessions: tuple[Session, ...], scope: Scope
) -> tuple[list[_Option], str]:
    spec = ci.spec
    assert isinstance(spec, ScanInput)
    matched: list[tuple[int, Session, Scan]] = []
    skipped: list[str] = []
    cache, skip = ci.type_cache, spec.skip_unusable
    for index, session in enumerate(sessions):
        for scan in session.scans:
            hit = cache.get(scan.type)
            if hit is None:
                hit = ci.type_matches(scan.type)
            if not hit:
                continue
            if skip and scan.quality.lower() == "unusable":
                skipped.append(f"{_scan_name(scan, session, scope)}: quality is unusable")
                continue
            matched.append((index, session, scan))
    why = ""
    if not matched:
        why = f"{ci.name}: no scan with type {' or '.join(spec.type_globs)}"
        if skipped:
            why += " (" + "; ".join(skipped) + ")"
    elif spec.keep_multis != "all":
        matched, why = _keep_multis(ci, spec, matched)
    return [
        _Option(ci, session, f"{_dax_path(scope.project, session)}/scans/{scan.id}", scan=scan)
        for _, session, scan in matched
    ], why


def _keep_multis(
    ci: CompiledInput, spec: ScanInput, matched: list[tuple[int, Session, Scan]]
) -> tuple[list[tuple[int, Session, Scan]], str]:
    """DAX's rule: order by lower-cased scan ID as text (per session), pick by position."""
    matched.sort(key=lambda m: (m[0], m[2].id.lower()))
    position = {"first": 1, "last": len(matched)}.get(spec.keep_multis) or int(spec.keep_multis)
    if position > len(matched):
        globs = " or ".join(spec.type_globs)
        found = len(matched)
        return [], f"{ci.name}: keep_multis {position} but only {found} scan(s) with type {globs}"
    return [matched[position - 1]], ""


def _scan_name(scan: Scan, session: Session, scope: Scope) -> str:
    if len(scope.sessions) == 1:
        return f"scan {scan.id}"
    return f"{session.label} scan {scan.id}"


def _assessor_options(
    ci: CompiledInput, sessions: tuple[Session, ...], scope: Scope
) -> tuple[list[_Option], str]:
    spec = ci.spec
    assert isinstance(spec, AssessorInput)
    options = [
        _Option(ci, s, f"{_dax_path(scope.project, s)}/assessors/{a.label}", assessor=a)
        for s in sessions
        for a in s.assessors
        if a.proctype in ci.proctypes
    ]
    return options, f"{ci.name}: no {' or '.join(spec.proctype_list)} assessor"


def _resolve(option: _Option, scope: Scope) -> tuple[ResolvedInput, list[str]]:
    if option.scan is not None:
        return _resolve_scan(option, option.scan, scope)
    assert option.assessor is not None
    return _resolve_assessor(option, option.assessor)


def _resolve_scan(option: _Option, scan: Scan, scope: Scope) -> tuple[ResolvedInput, list[str]]:
    spec, session = option.ci.spec, option.session
    assert isinstance(spec, ScanInput)
    who = _scan_name(scan, session, scope)
    reasons: list[str] = []
    quality = scan.quality.lower()
    if spec.needs_qc and quality == "unusable":
        reasons.append(f"{who}: quality is unusable")
    elif spec.require_usable and quality != "usable":
        reasons.append(f"{who}: quality is {scan.quality or 'not set'}, not usable")
    base = f"/data/experiments/{_q(session.id)}/scans/{_q(scan.id)}/resources/"
    resources: list[InputResource] = []
    for res in spec.all_resources:
        found = scan.resource(res.resource)
        if found is None:
            if res.required:
                reasons.append(f"{who}: no {res.resource} resource")
            continue
        if found.file_count == 0 and res.required:
            reasons.append(f"{who}: {res.resource} resource is empty")
        resources.append(_input_resource(res, base, found.file_count))
    resolved = ResolvedInput(
        option.ci.name,
        "scan",
        option.path,
        session.id,
        session.label,
        scan_id=scan.id,
        resources=tuple(resources),
    )
    return resolved, reasons


def _resolve_assessor(option: _Option, assr: Assessor) -> tuple[ResolvedInput, list[str]]:
    spec, session, name = option.ci.spec, option.session, option.ci.name
    assert isinstance(spec, AssessorInput)
    reasons: list[str] = []
    qc = assr.qcstatus
    if normalise_procstatus(assr.procstatus) is not ProcStatus.COMPLETE:
        reasons.append(f"{name}: {assr.proctype} is {assr.procstatus or 'without a status'}")
    elif qc in QC_RERUN:
        reasons.append(f"{name}: QC {qc}")
    elif spec.needs_qc and qc not in QC_PASSED:
        reasons.append(f"{name}: QC {qc or 'not set'}")
    base = f"/data/experiments/{_q(session.id)}/assessors/{_q(assr.id)}/out/resources/"
    resources: list[InputResource] = []
    for res in spec.all_resources:
        if res.resource not in assr.resources:
            if res.required and not reasons:
                reasons.append(f"{name}: {assr.label} has no {res.resource} resource")
            continue
        resources.append(_input_resource(res, base, None))
    resolved = ResolvedInput(
        name,
        "assessor",
        option.path,
        session.id,
        session.label,
        assessor_id=assr.id,
        assessor_label=assr.label,
        resources=tuple(resources),
    )
    return resolved, reasons


def _input_resource(res: ResourceSpec, base: str, file_count: int | None) -> InputResource:
    fmatch = res.fmatch if res.fmatch is not None else ("*" if res.ftype == "FILE" else None)
    return InputResource(
        res.resource,
        res.ftype,
        fmatch,
        res.fdest,
        res.ddest,
        res.fmulti,
        res.required,
        base + _q(res.resource),
        file_count,
    )


def _dax_path(project: str, session: Session) -> str:
    """DAX's artefact path prefix, the form its `inputs` values take."""
    return f"/projects/{project}/subjects/{session.subject_label}/experiments/{session.label}"


def _q(segment: str) -> str:
    return quote(segment, safe="")


def _passes(names: tuple[str, ...], chosen: dict[str, _Option]) -> bool:
    values = [_filter_value(name, chosen) for name in names]
    return values[0] is not None and all(v == values[0] for v in values[1:])


def _filter_value(name: str, chosen: dict[str, _Option]) -> Any:
    parent, _, child = name.partition("/")
    option = chosen.get(parent)
    if option is None:
        return None
    if not child:
        return option.path
    upstream = normalise_inputs(option.assessor.inputs if option.assessor else None)
    return None if upstream is None else upstream.get(child)


def _candidate(processor: Processor, scope: Scope, chosen: dict[str, _Option]) -> TaskCandidate:
    anchor = scope.anchor
    scan_id = None
    if processor.level == "scan":
        scan_id = next(o.scan.id for o in chosen.values() if o.scan is not None)
    key = tuple(sorted((n, o.path) for n, o in chosen.items()))
    return TaskCandidate(
        processor.proctype,
        processor.level,
        scope.project,
        anchor.subject_id,
        anchor.subject_label,
        anchor.id,
        anchor.label,
        scan_id,
        key,
        partial(_detail, processor.compiled.attrs, scope, chosen),
    )


def _detail(
    attrs: tuple[AttrInput, ...], scope: Scope, chosen: dict[str, _Option]
) -> CandidateDetail:
    inputs: list[ResolvedInput] = []
    reasons: list[str] = []
    for option in chosen.values():
        resolved, why = _resolve(option, scope)
        inputs.append(resolved)
        reasons += why
    values, attr_reasons = _attrs(attrs, scope, chosen)
    return CandidateDetail(tuple(inputs), tuple(reasons + attr_reasons), values)


def _attrs(
    specs: tuple[AttrInput, ...], scope: Scope, chosen: dict[str, _Option]
) -> tuple[tuple[tuple[str, str], ...], list[str]]:
    values: list[tuple[str, str]] = []
    reasons: list[str] = []
    for spec in specs:
        value = _attr_value(spec, scope, chosen)
        if value:
            values.append((spec.varname, value))
        else:
            reasons.append(f"{spec.varname}: {spec.object} attribute {spec.attr} is empty")
    return tuple(values), reasons


def _attr_value(spec: AttrInput, scope: Scope, chosen: dict[str, _Option]) -> str:
    source: Any
    if spec.object == "subject":
        source = {"id": scope.subject_id, "label": scope.subject_label}
        return str(source.get(spec.attr, ""))
    if spec.object == "session":
        source = scope.anchor
    else:
        option = chosen.get(spec.ref or "")
        source = None if option is None else (option.scan or option.assessor)
    value = getattr(source, spec.attr, None) if source is not None else None
    return "" if value is None else str(value)
