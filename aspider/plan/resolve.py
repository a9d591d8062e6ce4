"""
Resolving a candidate's inputs (pure): which resources each input stages, and what blocks it.

Only a candidate that a decision needs is resolved: a sweep where nothing changed resolves none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from aspider.plan.states import QC_PASSED, QC_RERUN, ProcStatus, normalise_procstatus
from aspider.plan.tasks import InputResource, ResolvedInput
from aspider.processors import AssessorInput, CompiledInput, ResourceSpec, ScanInput
from xnat_client.models import Assessor, Scan, Session

if TYPE_CHECKING:
    from aspider.plan.artefacts import Artefact
    from aspider.plan.scopes import Scope


def scan_name(scan: Scan, session: Session, scope: Scope) -> str:
    """How a reason names a scan: by ID alone within one session, with its session otherwise."""
    if len(scope.sessions) == 1:
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
    assert isinstance(spec, ScanInput)
    who = scan_name(scan, session, scope)
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


def _q(segment: str) -> str:
    return quote(segment, safe="")
