"""
Collection GETs: projects, subjects, experiments (three spellings), scans and assessors.

Default columns and URI forms follow xnat-rest.md 2.3 (ProjectListResource, ProjectSubjectList,
ProjSubExptList, ExperimentListResource, ScanList, ProjSubExptAsstList).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from starlette.responses import Response

from xnat_client.sandbox import _resolve
from xnat_client.sandbox._call import Call
from xnat_client.sandbox._columns import (
    AssessorContext,
    Context,
    ProjectContext,
    ScanContext,
    SessionContext,
    SubjectContext,
)
from xnat_client.sandbox._listing import build_query, respond
from xnat_client.sandbox._shared import SharedView, sessions_listed_in, subjects_listed_in
from xnat_client.sandbox._store import (
    ASSESSOR_TYPES,
    SUBJECT_ASSESSOR_TYPES,
    Store,
    StoredAssessor,
    StoredSession,
    canonical_type,
)

EXPERIMENT_DEFAULTS = ("ID", "project", "date", "xsiType", "label", "insert_date")
# Root types that are not secured elements: XNAT adds `xsiType` and `project` for them.
_UNSECURED = frozenset(
    {
        "xnat:experimentdata",
        "xnat:subjectassessordata",
        "xnat:imagesessiondata",
        "xnat:imageassessordata",
        "xnat:deriveddata",
    }
)
_CONCRETE_SESSIONS = frozenset(
    {"xnat:mrsessiondata", "xnat:petsessiondata", "xnat:ctsessiondata", *SUBJECT_ASSESSOR_TYPES}
)


def _listing(
    call: Call,
    ctx: Context,
    roots: Iterable[Any],
    defaults: tuple[str, ...],
    auto: tuple[str, ...] = (),
    extra: dict[str, Any] | None = None,
    uri: Any = None,
    first: tuple[str, ...] = (),
    raw_when_empty: bool = False,
) -> Response:
    query = build_query(ctx, call.params, defaults, auto, uri, first)
    query.raw_when_empty = raw_when_empty and call.raw_empty_headers
    return respond(query, ctx, roots, call.params, extra)


async def projects(call: Call) -> Response:
    defaults = ("ID", "secondary_ID", "name", "description", "pi_firstname", "pi_lastname")
    return _listing(
        call,
        ProjectContext(call.store),
        call.store.projects.values(),
        defaults,
        uri=lambda p: f"/data/projects/{p.id}",
    )


async def subjects(call: Call) -> Response:
    t = call.target
    if t.project is not None:
        roots: Iterable[Any] = subjects_listed_in(call.store, _resolve.project(call.store, t).id)
    else:
        roots = call.store.subjects.values()
    return _listing(
        call,
        SubjectContext(call.store),
        roots,
        ("ID", "project", "label", "insert_date", "insert_user"),
        uri=lambda s: f"/data/subjects/{s.id}",
    )


# Each experiment type and the type it extends (xnat.xsd, proc.xsd), lower-cased.
_EXTENDS = {
    "xnat:subjectassessordata": "xnat:experimentdata",
    "xnat:imagesessiondata": "xnat:subjectassessordata",
    "xnat:mrsessiondata": "xnat:imagesessiondata",
    "xnat:petsessiondata": "xnat:imagesessiondata",
    "xnat:ctsessiondata": "xnat:imagesessiondata",
    "xnat:deriveddata": "xnat:experimentdata",
    "xnat:imageassessordata": "xnat:deriveddata",
    "xnat:mrassessordata": "xnat:imageassessordata",
    "xnat:qcassessmentdata": "xnat:imageassessordata",
    "proc:genprocdata": "xnat:imageassessordata",
    "proc:subjgenprocdata": "xnat:subjectassessordata",
}


def _extends(kind: str, base: str) -> bool:
    while kind in _EXTENDS:
        kind = _EXTENDS[kind]
        if kind == base:
            return True
    return False


def _root_type(call: Call, default: str) -> str:
    """
    The query root (QueryOrganizerResource.getRootElementName): `xsiType=<one type>`, else the
    default, narrowed by every column or filter xpath whose type extends the root so far. So
    `columns=xnat:mrsessiondata/age` on a project's experiments makes `xnat:mrSessionData` the
    root, which lists MR sessions only and, a secured type, gets no auto-added columns.
    """
    wanted = call.params.get("xsiType", "")
    if wanted and "," not in wanted:
        return wanted.lower()
    root = default
    keys = [k for k, _ in call.params.multi_items() if "/" in k]
    keys += [c for c in call.params.get("columns", "").split(",") if "/" in c]
    for key in keys:
        element = key.split("/", 1)[0].lower()
        if element != root and _extends(element, root):
            root = element
    return root


async def experiments(call: Call) -> Response:
    t, store = call.target, call.store
    site_wide = t.project is None and t.subject is None
    root = _root_type(call, "xnat:experimentdata" if site_wide else "xnat:subjectassessordata")
    auto = ("xsiType", "project") if root in _UNSECURED else ()
    if site_wide:
        sessions = _site_sessions(store, call.params, root)
        extra: dict[str, Any] | None = {"title": "Matching experiments"}
    else:
        sessions = _project_sessions(call, root)
        extra = None
    if root in ASSESSOR_TYPES:
        defaults: tuple[str, ...] = ()
        if site_wide:
            defaults = (*EXPERIMENT_DEFAULTS, "session_ID", "session_label")
        roots: Iterable[Any] = _assessors(sessions, root)
        if not site_wide:
            listed_in = t.project or ""
            roots = (a for a in roots if a.project == listed_in or listed_in in a.shares)
        ctx: Context = AssessorContext(store)
    else:
        defaults = (*EXPERIMENT_DEFAULTS, "subject_ID", "subject_label") if site_wide else ()
        roots = _sessions(store, sessions, root)
        ctx = SessionContext(store)
    # ProjSubExptList selects the root's primary key first (QueryOrganizer.setPKField) and
    # names it by its xpath: `xnat:subjectassessordata/id` beside `ID`.
    key = () if site_wide else (f"{root}/id",)
    defaults = defaults or EXPERIMENT_DEFAULTS
    return _listing(call, ctx, roots, defaults, auto, extra, _experiment_uri, key, True)


def _project_sessions(call: Call, root: str) -> Iterable[Any]:
    """A project's (or one of its subjects') sessions as the project lists them: its own and,
    under their labels there, those shared into it. One exact `label=` uses the label index."""
    t, store = call.target, call.store
    project = _resolve.project(store, t).id
    label = _single(call.params.get("label"))
    if label is not None and t.subject is None and root not in ASSESSOR_TYPES:
        found = store.experiments.get(store.projects[project].labels.get(label, ""))
        if not isinstance(found, StoredSession):
            return []
        if found.project == project:
            return [found] if found.label == label else []
        return [SharedView(found, project)] if found.shares.get(project) == label else []
    listed = sessions_listed_in(store, project)
    if t.subject is None:
        return listed
    owner = _resolve.subject(store, t).id
    return (s for s in listed if s.subject_id == owner)


def _site_sessions(store: Store, params: Any, root: str) -> Iterable[StoredSession]:
    """Sessions `/data/experiments` walks: one project's when `project=` names one (with those
    shared into it, whose assessors may belong to it: the `project` filter still decides)."""
    narrowed = _by_label(store, params, root)
    if narrowed is not None:
        return narrowed
    project = _single(params.get("project"))
    if project is not None and root in ASSESSOR_TYPES and project in store.projects:
        proj = store.projects[project]
        return itertools.chain(proj.sessions.values(), proj.shared.values())
    return store.sessions_of(project)


def _by_label(store: Store, params: Any, root: str) -> list[StoredSession] | None:
    """
    One project and one exact session label: the project's label index finds the session.

    Only narrows what the listing's own filter would keep (the filter still runs), so a lookup
    of one session by label no longer walks the whole project.
    """
    project = _single(params.get("project"))
    key = "session_label" if root in ASSESSOR_TYPES else "label"
    label = _single(params.get(key))
    if project is None or label is None or root == "xnat:experimentdata":  # assessors too
        return None
    found = store.find_experiment(project, label)
    return [found] if isinstance(found, StoredSession) and found.label == label else []


def _experiment_uri(e: Any) -> str:
    return f"/data/experiments/{e.id}"


def _single(value: str | None) -> str | None:
    """A project filter the project index can answer; otherwise the filter does the work."""
    if value and not any(c in value for c in ",*%"):
        return value
    return None


def _sessions(store: Store, sessions: Iterable[StoredSession], root: str) -> Iterable[Any]:
    if root in _CONCRETE_SESSIONS:
        wanted = canonical_type(root)
        return (s for s in sessions if s.xsi_type == wanted)
    if root == "xnat:imagesessiondata":  # not the subjects' own assessors
        return (s for s in sessions if s.xsi_type.lower() not in SUBJECT_ASSESSOR_TYPES)
    if root == "xnat:experimentdata":
        return (e for s in sessions for e in (s, *s.assessors.values()))
    return sessions


def _assessors(sessions: Iterable[StoredSession], root: str) -> Iterable[StoredAssessor]:
    every = (a for s in sessions for a in s.assessors.values())
    if root in ("xnat:imageassessordata", "xnat:deriveddata"):
        return every
    wanted = canonical_type(root)
    return (a for a in every if a.xsi_type == wanted)


async def scans(call: Call) -> Response:
    session = _resolve.session(call.store, call.target)
    defaults = ("xnat_imagescandata_id", "ID", "type", "quality", "xsiType", "note")
    return _listing(
        call,
        ScanContext(call.store),
        session.scans.values(),
        (*defaults, "series_description"),
        uri=lambda s: f"/data/experiments/{session.id}/scans/{s.id}",
    )


async def assessors(call: Call) -> Response:
    session = _resolve.session(call.store, call.target)
    root = _root_type(call, "xnat:imageassessordata")
    defaults = ("ID", "project", "label", "date", "xsiType", "insert_date")
    return _listing(
        call,
        AssessorContext(call.store),
        _assessors([session], root),
        (*defaults, "session_ID", "session_label"),
        uri=_experiment_uri,
        raw_when_empty=True,
    )
