"""
Pairing a processor's candidates in a scope with the assessors that already exist (pure).

An assessor is a candidate's when its `inputs` equal the candidate's (DAX's own rule), whatever
its label. An assessor without `inputs` (older DAX projects) is paired the way DAX named it: a
v1/v2 label ending `-x-<scan ID>-x-<proctype>` is the task of that scan; otherwise, the one
assessor of a scope with one candidate left is that candidate's. Where it cannot be told which
task such an assessor is, the scope's remaining candidates are blocked with a finding naming
it: nothing is created beside it, so nothing runs twice (DAX builds nothing there either).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aspider.plan.artefacts import AssessorArtefact
from aspider.plan.labels import LABEL_SEPARATOR, InputsKey
from aspider.plan.states import ProcStatus, normalise_procstatus
from aspider.plan.tasks import TaskCandidate
from xnat_client.models import Assessor


@dataclass
class Pairing:
    """Each candidate with its assessor (or None), and what is left over."""

    pairs: list[tuple[TaskCandidate, Assessor | None]] = field(default_factory=list)
    duplicates: list[tuple[Assessor, Assessor | None]] = field(default_factory=list)
    orphans: list[Assessor] = field(default_factory=list)  # inputs match no candidate
    adopted: list[Assessor] = field(default_factory=list)  # without inputs, paired anyway
    unpaired: list[Assessor] = field(default_factory=list)  # without inputs, left alone
    blocked: list[TaskCandidate] = field(default_factory=list)  # held back by `unpaired`


def pair(candidates: tuple[TaskCandidate, ...], existing: list[AssessorArtefact]) -> Pairing:
    """Pair candidates with assessors by inputs, then the assessors without inputs by label."""
    out = Pairing()
    by_inputs: dict[InputsKey, list[Assessor]] = {}
    bare: list[Assessor] = []
    for art in existing:
        if art.key is None:
            bare.append(art.assessor)
        else:
            by_inputs.setdefault(art.key, []).append(art.assessor)
    claimed: set[str] = set()
    open_cands: list[TaskCandidate] = []
    for cand in candidates:
        found = by_inputs.get(cand.key, [])
        chosen = found[0] if len(found) == 1 else _prefer(found, cand.label)
        for a in found:
            claimed.add(a.id)
            if a is not chosen:
                out.duplicates.append((a, chosen))
        if chosen is None:
            open_cands.append(cand)
        else:
            out.pairs.append((cand.relabelled(chosen.label), chosen))
    out.orphans = [
        art.assessor for art in existing if art.key is not None and art.assessor.id not in claimed
    ]
    _pair_bare(out, open_cands, bare)
    return out


def _pair_bare(out: Pairing, open_cands: list[TaskCandidate], bare: list[Assessor]) -> None:
    """Assessors without inputs: by the scan their label names, else one for one."""
    left = list(bare)
    for a in bare:
        scan_id = _scan_of_label(a)
        if scan_id is None:
            continue
        fits = [c for c in open_cands if _takes_scan(c, a.session_id, scan_id)]
        if len(fits) == 1:
            _adopt(out, open_cands, left, fits[0], a)
    if len(left) == 1 and len(open_cands) == 1:
        _adopt(out, open_cands, left, open_cands[0], left[0])
    out.unpaired = left
    if left:
        out.blocked = open_cands
    else:
        out.pairs += [(c, None) for c in open_cands]


def _adopt(
    out: Pairing,
    open_cands: list[TaskCandidate],
    left: list[Assessor],
    cand: TaskCandidate,
    a: Assessor,
) -> None:
    open_cands.remove(cand)
    left.remove(a)
    out.adopted.append(a)
    out.pairs.append((cand.relabelled(a.label), a))


def _scan_of_label(a: Assessor) -> str | None:
    """`P-x-S-x-SESS-x-<scan>-x-<proctype>`: the scan a DAX v1/v2 scan assessor was for."""
    parts = a.label.split(LABEL_SEPARATOR)
    if len(parts) == 5 and parts[4] == a.proctype:
        return parts[3]
    return None


def _takes_scan(cand: TaskCandidate, session_id: str, scan_id: str) -> bool:
    """The candidate (on that session) takes that scan as one of its inputs."""
    tail = f"/scans/{scan_id}"
    return cand.session_id == session_id and any(path.endswith(tail) for _, path in cand.key)


def _prefer(found: list[Assessor], label: str) -> Assessor | None:
    if not found:
        return None
    for a in found:
        if a.label == label:
            return a
    complete = [a for a in found if normalise_procstatus(a.procstatus) is ProcStatus.COMPLETE]
    return min(complete or found, key=lambda a: a.label)
