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

from aspider.labels import InputsKey, assessor_inputs_key, normalise_inputs
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
    index: ScopeIndex | None = field(default=None, compare=False, repr=False)  # see scope_index


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
    spec: ScanInput | AssessorInput
    group_index: int | None  # index into inputs.xnat.sessions, None for top-level inputs
    optional: bool
    regex: re.Pattern[str]
    proctypes: frozenset[str]
    globs: tuple[str, ...]  # scan type globs or proctypes, as written (for reasons)
    type_cache: dict[str, bool] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "type_cache", _TypeCache(self.regex))

    def type_matches(self, scan_type: str) -> bool:
        return self.type_cache[scan_type]


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
        if isinstance(item, ScanInput):
            globs = item.type_globs
            regex = re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))
            ci = CompiledInput(item.name, "scan", item, group, optional, regex, frozenset(), globs)
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


def _filter_ref(name: str, position: dict[str, int]) -> FilterRef:
    parent, _, child = name.partition("/")
    return position.get(parent, -1), child


def _int_or_none(value: str | int | None) -> int | None:
    return value if isinstance(value, int) else None


# --- what a scope offers -------------------------------------------------------------------


class Artefact:
    """
    A scan or assessor of a scope with its XNAT path: what an input can take.

    Built once per scope and shared by every processor matched there. For an assessor, `key` is
    its `inputs` in the form the planner compares with a candidate's key (None when the assessor
    has no inputs).
    """

    __slots__ = ("_upstream", "assessor", "key", "path", "scan", "session")
    scan: Scan | None
    assessor: Assessor | None

    def __init__(
        self, session: Session, path: str, scan: Scan | None, assessor: Assessor | None
    ) -> None:
        self.session = session
        self.path = path
        self.scan = scan
        self.assessor = assessor
        self.key = assessor_inputs_key(assessor.inputs) if assessor is not None else None
        self._upstream: dict[str, Any] | bool | None = False  # not worked out yet

    def upstream_inputs(self) -> dict[str, Any] | None:
        """An assessor's `inputs`, normalised once (filters look into it for every combination)."""
        if self._upstream is False:
            self._upstream = normalise_inputs(self.assessor.inputs if self.assessor else None)
        assert self._upstream is not True
        return self._upstream


class ScanArtefact(Artefact):
    __slots__ = ()
    scan: Scan


class AssessorArtefact(Artefact):
    __slots__ = ()
    assessor: Assessor


class ScopeIndex:
    """
    A scope's assessors as artefacts, by session and by proctype, and its sessions' paths.

    Scan artefacts are made by the inputs that match them (most scans match no input).
    """

    __slots__ = ("_by_proctype", "assessors", "prefixes")

    def __init__(self, scope: Scope) -> None:
        self.prefixes: dict[str, str] = {}  # session ID -> DAX path prefix
        self.assessors: dict[str, list[AssessorArtefact]] = {}
        by_proctype: dict[str, list[AssessorArtefact]] = {}
        for s in scope.sessions:
            prefix = _dax_path(scope.project, s)
            self.prefixes[s.id] = prefix
            arts = self.assessors[s.id] = [
                AssessorArtefact(s, f"{prefix}/assessors/{a.label}", None, a) for a in s.assessors
            ]
            for art in arts:
                found = by_proctype.get(art.assessor.proctype)
                if found is None:
                    by_proctype[art.assessor.proctype] = [art]
                else:
                    found.append(art)
        self._by_proctype = by_proctype

    def of_proctype(self, proctype: str) -> list[AssessorArtefact]:
        """The assessors of one proctype in all the scope's sessions, in session order."""
        return self._by_proctype.get(proctype, [])


def scope_index(scope: Scope) -> ScopeIndex:
    """The scope's index, built by the first processor that needs it."""
    index = scope.index
    if index is None:
        index = ScopeIndex(scope)
        object.__setattr__(scope, "index", index)  # a cache: the scope's data never changes
    return index


# --- matching ------------------------------------------------------------------------------

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
    index = scope_index(scope)
    lists: list[Sequence[Artefact | None]] = []
    missing: list[str] = []
    options: Sequence[Artefact]
    for ci in compiled.inputs:
        sessions = scope.sessions if ci.group_index is None else _sessions_for(processor, ci, scope)
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
    ci: CompiledInput, sessions: tuple[Session, ...], scope: Scope, index: ScopeIndex
) -> tuple[list[ScanArtefact], str]:
    """The scans an input can take, and why there is none when there is none."""
    spec = ci.spec
    assert isinstance(spec, ScanInput)
    matches = ci.type_cache
    prefixes = index.prefixes
    matched = [
        ScanArtefact(s, f"{prefixes[s.id]}/scans/{c.id}", c, None)
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
                f"{_scan_name(a.scan, a.session, scope)}: quality is unusable" for a in skipped
            )
            why += " (" + "; ".join(unusable) + ")"
        return [], why
    if spec.keep_multis != "all":
        return _keep_multis(ci, spec, matched, sessions)
    return matched, ""


def _keep_multis(
    ci: CompiledInput, spec: ScanInput, matched: list[ScanArtefact], sessions: tuple[Session, ...]
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


def _scan_name(scan: Scan, session: Session, scope: Scope) -> str:
    if len(scope.sessions) == 1:
        return f"scan {scan.id}"
    return f"{session.label} scan {scan.id}"


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
        partial(_detail, compiled, scope, combo),
    )


def _resolve(ci: CompiledInput, art: Artefact, scope: Scope) -> tuple[ResolvedInput, list[str]]:
    if art.scan is not None:
        return _resolve_scan(ci, art, art.scan, scope)
    assert art.assessor is not None
    return _resolve_assessor(ci, art, art.assessor)


def _resolve_scan(
    ci: CompiledInput, art: Artefact, scan: Scan, scope: Scope
) -> tuple[ResolvedInput, list[str]]:
    spec, session = ci.spec, art.session
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
        ci.name,
        "scan",
        art.path,
        session.id,
        session.label,
        scan_id=scan.id,
        resources=tuple(resources),
    )
    return resolved, reasons


def _resolve_assessor(
    ci: CompiledInput, art: Artefact, assr: Assessor
) -> tuple[ResolvedInput, list[str]]:
    spec, session, name = ci.spec, art.session, ci.name
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
        art.path,
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


def _detail(compiled: CompiledProcessor, scope: Scope, combo: Combo) -> CandidateDetail:
    inputs: list[ResolvedInput] = []
    reasons: list[str] = []
    for ci, art in zip(compiled.inputs, combo, strict=True):
        if art is not None:
            resolved, why = _resolve(ci, art, scope)
            inputs.append(resolved)
            reasons += why
    values, attr_reasons = _attrs(compiled, scope, combo)
    return CandidateDetail(tuple(inputs), tuple(reasons + attr_reasons), values)


def _attrs(
    compiled: CompiledProcessor, scope: Scope, combo: Combo
) -> tuple[tuple[tuple[str, str], ...], list[str]]:
    values: list[tuple[str, str]] = []
    reasons: list[str] = []
    for spec in compiled.attrs:
        value = _attr_value(spec, scope, compiled, combo)
        if value:
            values.append((spec.varname, value))
        else:
            reasons.append(f"{spec.varname}: {spec.object} attribute {spec.attr} is empty")
    return tuple(values), reasons


def _attr_value(spec: AttrInput, scope: Scope, compiled: CompiledProcessor, combo: Combo) -> str:
    source: Any
    if spec.object == "subject":
        source = {"id": scope.subject_id, "label": scope.subject_label}
        return str(source.get(spec.attr, ""))
    if spec.object == "session":
        source = scope.anchor
    else:
        position = compiled.position.get(spec.ref or "")
        art = None if position is None else combo[position]
        source = None if art is None else (art.scan or art.assessor)
    value = getattr(source, spec.attr, None) if source is not None else None
    return "" if value is None else str(value)
