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
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from aspider.labels import assessor_label, canonical_inputs_json, inputs_digest, normalise_inputs
from aspider.processors._checks import iter_inputs
from aspider.processors._model import AssessorInput, AttrInput, ResourceSpec, ScanInput
from aspider.states import QC_PASSED, QC_RERUN, ProcStatus, normalise_procstatus
from aspider.tasks import InputResource, Level, NotApplicable, ResolvedInput, TaskCandidate
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
    resolved: ResolvedInput
    reasons: tuple[str, ...]
    scan: Scan | None = None
    assessor: Assessor | None = None


def match_scope(processor: Processor, scope: Scope) -> MatchResult:
    """Every candidate of `processor` in `scope` (pure)."""
    compiled = processor.compiled
    names: list[str] = []
    lists: list[Sequence[_Option | None]] = []
    missing: list[str] = []
    for ci in compiled.inputs:
        sessions = _sessions_for(processor, ci, scope)
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
    for combo in itertools.product(*lists):
        chosen = {n: o for n, o in zip(names, combo, strict=True) if o is not None}
        if all(_passes(f, chosen) for f in compiled.filters):
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
    if ci.group_index is None:
        return scope.sessions
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
    for index, session in enumerate(sessions):
        for scan in session.scans:
            if not ci.type_matches(scan.type):
                continue
            if spec.skip_unusable and scan.quality.lower() == "unusable":
                skipped.append(f"{_scan_name(scan, session, scope)}: quality is unusable")
                continue
            matched.append((index, session, scan))
    globs = " or ".join(spec.type_globs)
    why = f"{ci.name}: no scan with type {globs}"
    if skipped:
        why += " (" + "; ".join(skipped) + ")"
    if matched and spec.keep_multis != "all":
        # DAX's rule: order by lower-cased scan ID as text, then pick by position.
        matched.sort(key=lambda m: (m[0], m[2].id.lower()))
        position = {"first": 1, "last": len(matched)}.get(spec.keep_multis)
        position = position or int(spec.keep_multis)
        if position > len(matched):
            found = len(matched)
            why = f"{ci.name}: keep_multis {position} but only {found} scan(s) with type {globs}"
            matched = []
        else:
            matched = [matched[position - 1]]
    return [_scan_option(ci, spec, session, scan, scope) for _, session, scan in matched], why


def _scan_name(scan: Scan, session: Session, scope: Scope) -> str:
    if len(scope.sessions) == 1:
        return f"scan {scan.id}"
    return f"{session.label} scan {scan.id}"


def _scan_option(
    ci: CompiledInput, spec: ScanInput, session: Session, scan: Scan, scope: Scope
) -> _Option:
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
    path = _dax_path(scope.project, session) + f"/scans/{scan.id}"
    resolved = ResolvedInput(
        ci.name,
        "scan",
        path,
        session.id,
        session.label,
        scan_id=scan.id,
        resources=tuple(resources),
    )
    return _Option(resolved, tuple(reasons), scan=scan)


def _assessor_options(
    ci: CompiledInput, sessions: tuple[Session, ...], scope: Scope
) -> tuple[list[_Option], str]:
    spec = ci.spec
    assert isinstance(spec, AssessorInput)
    options = [
        _assessor_option(ci, spec, session, assr, scope)
        for session in sessions
        for assr in session.assessors
        if assr.proctype in ci.proctypes
    ]
    return options, f"{ci.name}: no {' or '.join(spec.proctype_list)} assessor"


def _assessor_option(
    ci: CompiledInput, spec: AssessorInput, session: Session, assr: Assessor, scope: Scope
) -> _Option:
    reasons: list[str] = []
    status = normalise_procstatus(assr.procstatus)
    qc = assr.qcstatus
    if status is not ProcStatus.COMPLETE:
        reasons.append(f"{ci.name}: {assr.proctype} is {assr.procstatus or 'without a status'}")
    elif qc in QC_RERUN:
        reasons.append(f"{ci.name}: QC {qc}")
    elif spec.needs_qc and qc not in QC_PASSED:
        reasons.append(f"{ci.name}: QC {qc or 'not set'}")
    base = f"/data/experiments/{_q(session.id)}/assessors/{_q(assr.id)}/out/resources/"
    resources: list[InputResource] = []
    for res in spec.all_resources:
        if res.resource not in assr.resources:
            if res.required and not reasons:
                reasons.append(f"{ci.name}: {assr.label} has no {res.resource} resource")
            continue
        resources.append(_input_resource(res, base, None))
    path = _dax_path(scope.project, session) + f"/assessors/{assr.label}"
    resolved = ResolvedInput(
        ci.name,
        "assessor",
        path,
        session.id,
        session.label,
        assessor_id=assr.id,
        assessor_label=assr.label,
        resources=tuple(resources),
    )
    return _Option(resolved, tuple(reasons), assessor=assr)


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
        return option.resolved.path
    upstream = normalise_inputs(option.assessor.inputs if option.assessor else None)
    return None if upstream is None else upstream.get(child)


def _candidate(processor: Processor, scope: Scope, chosen: dict[str, _Option]) -> TaskCandidate:
    inputs_json = canonical_inputs_json({n: o.resolved.path for n, o in chosen.items()})
    anchor = scope.anchor
    label = assessor_label(
        scope.project,
        anchor.subject_label,
        anchor.label,
        processor.proctype,
        inputs_digest(inputs_json),
    )
    reasons = [r for o in chosen.values() for r in o.reasons]
    attrs, attr_reasons = _attrs(processor.compiled.attrs, scope, chosen)
    scan_id = None
    if processor.level == "scan":
        first = next(o for o in chosen.values() if o.scan is not None)
        scan_id = first.resolved.scan_id
    return TaskCandidate(
        processor.proctype,
        processor.level,
        scope.project,
        anchor.subject_id,
        anchor.subject_label,
        anchor.id,
        anchor.label,
        scan_id,
        tuple(o.resolved for o in chosen.values()),
        inputs_json,
        label,
        tuple(reasons + attr_reasons),
        attrs,
    )


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
