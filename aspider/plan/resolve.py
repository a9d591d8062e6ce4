"""
Resolving a candidate's inputs (pure): which resources each input stages, and what blocks it.

Only a candidate that a decision needs is resolved: a sweep where nothing changed resolves none.
What blocks a scan or an assessor is DAX's rule (`plan.upstream`). A snapshot knows a scan
resource's file count, so a FILE input that would take every file of a resource holding several
is blocked here, at plan time, as DAX blocks it at build time ("multiple files"), rather than at
staging in every sweep.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from aspider.plan.tasks import InputResource, ResolvedInput
from aspider.plan.upstream import assessor_blocker, scan_blocker
from aspider.processors import AssessorInput, CompiledInput, ResourceSpec
from xnat_client.models import Assessor, Resource, Scan, Session

if TYPE_CHECKING:
    from aspider.plan.artefacts import Artefact
    from aspider.plan.scopes import Scope


def scan_name(scan: Scan, session: Session, scope: Scope) -> str:
    """How a reason names a scan: by ID alone within one session, with its session otherwise."""
    if len(scope.sessions) == 1 and session.id == scope.anchor.id:
        return f"scan {scan.id}"
    return f"{session.label} scan {scan.id}"


def resolve(ci: CompiledInput, art: Artefact, scope: Scope) -> tuple[ResolvedInput, list[str]]:
    """One input bound to one artefact, and the reasons it cannot be used yet (none: ready)."""
    if art.scan is not None:
        return _resolve_scan(ci, art, art.scan, scope)
    assert art.assessor is not None
    return _resolve_assessor(ci, art, art.assessor)


def _resolve_scan(
    ci: CompiledInput, art: Artefact, scan: Scan, scope: Scope
) -> tuple[ResolvedInput, list[str]]:
    spec, session = ci.spec, art.session
    assert not isinstance(spec, AssessorInput)
    who = scan_name(scan, session, scope)
    reasons: list[str] = []
    blocked = scan_blocker(scan.quality, needs_qc=spec.needs_qc, require_usable=spec.require_usable)
    if blocked:
        reasons.append(f"{who}: {blocked}")
    base = f"/data/experiments/{_q(session.id)}/scans/{_q(scan.id)}/resources/"
    resources: list[InputResource] = []
    for r, res in enumerate(spec.all_resources):
        varname = res.varname or f"{ci.name}-{res.resource}-{r}"
        found = scan.resource(res.resource)
        if found is None:
            if res.required:
                reasons.append(f"{who}: no {res.resource} resource")
            continue
        reasons += _file_reasons(who, varname, res, found)
        resources.append(_input_resource(res, varname, base, found.file_count, found.file_size))
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


def _file_reasons(who: str, varname: str, res: ResourceSpec, found: Resource) -> list[str]:
    """What a scan resource's file count already tells (an empty one; several for one FILE)."""
    if not res.required:
        return []
    if found.file_count == 0:
        return [f"{who}: {res.resource} resource is empty"]
    takes_all = res.pattern == "*" and res.filepath is None
    several = found.file_count is not None and found.file_count > 1
    if res.ftype == "FILE" and takes_all and several and res.fmulti != "any1":
        message = (
            f"{varname}: multiple files ({found.file_count} in {who}'s {res.resource} resource; "
            "name one with fmatch, or take the first with fmulti: any1)"
        )
        return [message]
    return []


def _resolve_assessor(
    ci: CompiledInput, art: Artefact, assr: Assessor
) -> tuple[ResolvedInput, list[str]]:
    spec, session, name = ci.spec, art.session, ci.name
    assert isinstance(spec, AssessorInput)
    reasons: list[str] = []
    blocked = assessor_blocker(assr, needs_qc=spec.needs_qc)
    if blocked:
        reasons.append(f"{name}: {blocked}")
    base = f"/data/experiments/{_q(session.id)}/assessors/{_q(assr.id)}/out/resources/"
    resources: list[InputResource] = []
    for r, res in enumerate(spec.all_resources):
        varname = res.varname or f"{name}-{res.resource}-{r}"
        if res.resource not in assr.resources:
            if res.required and not reasons:
                reasons.append(f"{name}: {assr.label} has no {res.resource} resource")
            continue
        resources.append(_input_resource(res, varname, base, None, None))
    resolved = ResolvedInput(
        name,
        "assessor",
        art.path,
        session.id,
        session.label,
        assessor_id=assr.id,
        assessor_label=assr.label,
        resources=tuple(resources),
        job_id=assr.jobid,
    )
    return resolved, reasons


def _input_resource(
    res: ResourceSpec, varname: str, base: str, file_count: int | None, file_size: int | None
) -> InputResource:
    return InputResource(
        res.resource,
        res.ftype,
        res.pattern,
        res.fdest,
        res.ddest,
        res.fmulti,
        res.required,
        base + _q(res.resource),
        file_count,
        varname=varname,
        filepath=res.filepath,
        file_size=file_size,
    )


def _q(segment: str) -> str:
    return quote(segment, safe="")
