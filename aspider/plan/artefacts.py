"""
What a scope offers to a processor's inputs (pure): its scans and assessors as artefacts.

An artefact carries the XNAT path DAX writes into `inputs`; artefacts are built once per scope
and shared by every processor matched there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aspider.plan.labels import assessor_inputs_key, normalise_inputs
from aspider.processors import is_trial
from xnat_client.models import Assessor, Scan, Session

if TYPE_CHECKING:
    from aspider.plan.scopes import Scope


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

    Scan artefacts are made by the inputs that match them (most scans match no input). A
    trial's assessor (`TRIAL_...`, `aspider trial`) is found by its own proctype only, for the
    trial that follows it; it is never among the inputs a processor may take.
    """

    __slots__ = ("_by_proctype", "assessors", "prefixes")

    def __init__(self, scope: Scope) -> None:
        self.prefixes: dict[str, str] = {}  # session ID -> DAX path prefix
        every: dict[str, list[AssessorArtefact]] = {}
        by_proctype: dict[str, list[AssessorArtefact]] = {}
        for s in scope.sessions:
            prefix = dax_path(scope.project, s)
            self.prefixes[s.id] = prefix
            every[s.id] = [
                AssessorArtefact(s, f"{prefix}/assessors/{a.label}", None, a) for a in s.assessors
            ]
        subject = f"/projects/{scope.project}/subjects/{scope.subject_label}/experiments"
        every[""] = [  # the subject's own, on no session: the anchor stands in
            AssessorArtefact(scope.anchor, f"{subject}/{a.label}", None, a) for a in scope.own
        ]
        trials = False
        for arts in every.values():
            for art in arts:
                found = by_proctype.get(art.assessor.proctype)
                if found is None:
                    by_proctype[art.assessor.proctype] = [art]
                    trials = trials or is_trial(art.assessor.proctype)
                else:
                    found.append(art)
        self._by_proctype = by_proctype
        self.assessors = _without_trials(every) if trials else every

    def of_proctype(self, proctype: str) -> list[AssessorArtefact]:
        """The assessors of one proctype in all the scope's sessions, in session order."""
        return self._by_proctype.get(proctype, [])


def _without_trials(
    every: dict[str, list[AssessorArtefact]],
) -> dict[str, list[AssessorArtefact]]:
    return {
        where: [art for art in arts if not is_trial(art.assessor.proctype)]
        for where, arts in every.items()
    }


def scope_index(scope: Scope) -> ScopeIndex:
    """The scope's index, built by the first processor that needs it."""
    index = scope.index
    if index is None:
        index = ScopeIndex(scope)
        object.__setattr__(scope, "index", index)  # a cache: the scope's data never changes
    return index


def dax_path(project: str, session: Session) -> str:
    """DAX's artefact path prefix, the form its `inputs` values take."""
    return f"/projects/{project}/subjects/{session.subject_label}/experiments/{session.label}"
