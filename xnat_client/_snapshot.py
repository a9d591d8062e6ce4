"""
Reading a whole project (or one session) in a constant number of requests.

Three bulk listings, sent together: the project's subjects, its image sessions joined with
scans and scan resources (its own and those shared into it, as the project's listing shows
them), and its `proc:genProcData` assessors joined with output resources. Asked for, one more
reads the tracer of every PET session (a column of the PET type only: in the session listing
it would make XNAT list PET sessions alone), and one more the subjects' own assessors (DAX's
`proc:subjGenProcData`) with their resources.
The number of requests does not depend on the number of sessions. Each listing is read as CSV
and folded while it streams (`_csv_listing`, `_fold`); the models are built at the end, in a
worker thread, so the event loop keeps serving other tasks meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from functools import partial
from typing import TypeVar

import anyio

from . import _fold, _rows
from ._cells import inputs
from ._csv_listing import CpuWork, fold_csv
from ._exceptions import BadResponse, InvalidName
from ._http import HttpCore
from ._models import (
    PROC_XSI_TYPE,
    SUBJECT_PROC_XSI_TYPE,
    Assessor,
    Project,
    ProjectSnapshot,
    Session,
)
from ._paths import segment

SESSION_XSI_TYPE = "xnat:imageSessionData"
PET_XSI_TYPE = "xnat:petSessionData"
T = TypeVar("T")
_XNAT_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_FILTER_SPECIALS = (",", "*", "%")


def project_id(project: str) -> str:
    """XNAT project IDs are `[A-Za-z0-9_-]+`; anything else cannot be a project."""
    if not isinstance(project, str) or not _XNAT_ID.match(project):
        raise InvalidName(f"project ID {project!r} is not [A-Za-z0-9_-]+")
    return project


async def _json_rows(core: HttpCore, path: str, params: Mapping[str, str]) -> list[_rows.Row]:
    payload = await core.get_json(path, params)
    try:
        return _rows.result_rows(payload)
    except ValueError as exc:
        raise BadResponse(str(exc), method="GET", path=path, status=200) from None


def _session_query(label: str | None) -> dict[str, str]:
    params = {"xsiType": SESSION_XSI_TYPE, "columns": _rows.SESSION_COLUMNS}
    if label is not None:
        params["label"] = label
    return params


def _assessor_query(project: str, **session: str) -> dict[str, str]:
    """The assessors of a project, or of one session (`session_label=` or `session_ID=`)."""
    params = {"project": project, "xsiType": PROC_XSI_TYPE, "columns": _rows.ASSESSOR_COLUMNS}
    return {**params, **session}


class _Folds:
    """The folds of one snapshot, sharing one pool of repeated cell values."""

    def __init__(self) -> None:
        self.pool = _fold.new_pool()
        self.subjects: _fold.SubjectFold | None = None
        self.sessions: _fold.SessionFold | None = None
        self.assessors: _fold.AssessorFold | None = None

    async def read(self, core: HttpCore, project: str, label: str | None, cpu: CpuWork) -> None:
        """Subjects (project snapshot only), sessions and assessors, all three at once."""
        pool = self.pool

        async def subjects() -> None:
            path = f"/data/projects/{segment(project)}/subjects"
            params = {"columns": _rows.SUBJECT_COLUMNS}
            make = partial(_fold.SubjectFold, pool=pool)
            self.subjects = await fold_csv(core, path, params, make, cpu)

        async def sessions() -> None:
            # The project's own listing, not /data/experiments?project=: it also lists the
            # sessions shared into the project, under their label there (ProjSubExptList).
            path = f"/data/projects/{segment(project)}/experiments"
            make = partial(_fold.SessionFold, pool=pool)
            self.sessions = await fold_csv(core, path, _session_query(label), make, cpu)

        async def assessors() -> None:
            await self.read_assessors(
                core, project, {} if label is None else {"session_label": label}, cpu
            )

        try:
            async with anyio.create_task_group() as tg:
                if label is None:
                    tg.start_soon(subjects)
                tg.start_soon(sessions)
                tg.start_soon(assessors)
        except ExceptionGroup as group:
            raise _first_error(group) from None

    async def read_assessors(
        self, core: HttpCore, project: str, session: dict[str, str], cpu: CpuWork = nullcontext
    ) -> None:
        make = partial(_fold.AssessorFold, pool=self.pool)
        params = _assessor_query(project, **session)
        self.assessors = await fold_csv(core, "/data/experiments", params, make, cpu)

    def build_sessions(self) -> list[Session]:
        assert self.sessions is not None
        assert self.assessors is not None
        return _rows.attach(self.sessions, self.assessors)

    def build(self, project: str, requests: int) -> ProjectSnapshot:
        assert self.subjects is not None
        return ProjectSnapshot(
            project=project,
            subjects=tuple(self.subjects.build()),
            sessions=tuple(self.build_sessions()),
            requests=requests,
        )


def _first_error(group: ExceptionGroup[Exception]) -> Exception:
    """The first failure of the concurrent listings, as itself: callers catch `XnatError`."""
    first = group.exceptions[0]
    return _first_error(first) if isinstance(first, ExceptionGroup) else first


def _inside(cpu: CpuWork, work: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        with cpu():
            return work()

    return run


async def project_snapshot(
    core: HttpCore,
    project: str,
    cpu: CpuWork = nullcontext,
    *,
    tracers: bool = False,
    subject_assessors: bool = False,
) -> ProjectSnapshot:
    """
    Subjects, sessions, scans, scan resources and assessors of a project: 3 requests, one
    more for PET sessions' tracers with `tracers`, one more for `subject_assessors`.

    `cpu()` is entered around each synchronous CPU-bound step (a block of a listing folded;
    the models built, in a worker thread), never across an await.
    """
    project = project_id(project)
    folds = _Folds()
    found: dict[str, str] = {}
    subjects: list[Assessor] = []
    with core.tally() as tally:
        if not (tracers or subject_assessors):
            await folds.read(core, project, None, cpu)
        else:
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(folds.read, core, project, None, cpu)
                    if tracers:
                        tg.start_soon(_read_tracers, core, project, found)
                    if subject_assessors:
                        tg.start_soon(_read_subject_assessors, core, project, subjects)
            except ExceptionGroup as group:
                raise _first_error(group) from None
    build = _inside(cpu, partial(folds.build, project, tally.count))
    snapshot = await anyio.to_thread.run_sync(build)
    if subjects:
        snapshot = snapshot.model_copy(update={"subject_assessors": tuple(subjects)})
    return _with_tracers(snapshot, found) if found else snapshot


_SUBJ = SUBJECT_PROC_XSI_TYPE.lower()
_SUBJECT_ASSESSOR_FIELDS = (
    *("proctype", "procversion", "procstatus", "validation/status", "note", "inputs"),
    *("jobid", "jobnode", "jobstartdate", "memused", "walltimeused"),
)
_SUBJECT_ASSESSOR_COLUMNS = ",".join(
    (
        *("ID", "label", "project", "subject_ID", "subject_label", "last_modified"),
        *(f"{_SUBJ}/{f}" for f in _SUBJECT_ASSESSOR_FIELDS),
        f"{_SUBJ}/resources/resource/label",
    )
)


async def _read_subject_assessors(core: HttpCore, project: str, into: list[Assessor]) -> None:
    """Every proc:subjGenProcData of the project, one row per resource, folded by ID."""
    params = {"project": project, "xsiType": SUBJECT_PROC_XSI_TYPE}
    rows = await _json_rows(
        core, "/data/experiments", {**params, "columns": _SUBJECT_ASSESSOR_COLUMNS}
    )
    cells: dict[str, dict[str, str]] = {}
    resources: dict[str, list[str]] = {}
    for row in rows:
        key = _rows.text(row, "ID")
        if not key:
            continue
        cells.setdefault(key, {c: _rows.text(row, c) for c in _SUBJECT_ASSESSOR_COLUMNS.split(",")})
        label = _rows.text(row, f"{_SUBJ}/resources/resource/label")
        if label and label not in resources.setdefault(key, []):
            resources[key].append(label)
    into.extend(_subject_assessor(c, resources.get(k, [])) for k, c in cells.items())


def _subject_assessor(c: dict[str, str], resources: list[str]) -> Assessor:
    field = {f: c[f"{_SUBJ}/{f}"] for f in _SUBJECT_ASSESSOR_FIELDS}
    raw = field["inputs"]
    return Assessor(
        id=c["ID"],
        label=c["label"],
        project=c["project"],
        session_id="",
        xsi_type=SUBJECT_PROC_XSI_TYPE,
        subject_id=c["subject_ID"],
        proctype=field["proctype"],
        procversion=field["procversion"],
        procstatus=field["procstatus"],
        qcstatus=field["validation/status"],
        note=field["note"],
        inputs=inputs(raw),
        inputs_raw=raw,
        jobid=field["jobid"],
        jobnode=field["jobnode"],
        jobstartdate=field["jobstartdate"],
        memused=field["memused"],
        walltimeused=field["walltimeused"],
        last_modified=c["last_modified"],
        resources=tuple(resources),
    )


async def _read_tracers(core: HttpCore, project: str, found: dict[str, str]) -> None:
    path = f"/data/projects/{segment(project)}/experiments"
    params = {"xsiType": PET_XSI_TYPE, "columns": f"ID,{PET_XSI_TYPE}/tracer/name"}
    for row in await _json_rows(core, path, params):
        tracer = _rows.text(row, f"{PET_XSI_TYPE.lower()}/tracer/name")
        if tracer:
            found[_rows.text(row, "ID")] = tracer


def _with_tracers(snapshot: ProjectSnapshot, tracers: dict[str, str]) -> ProjectSnapshot:
    sessions = tuple(
        s.model_copy(update={"tracer": tracers[s.id]}) if s.id in tracers else s
        for s in snapshot.sessions
    )
    return snapshot.model_copy(update={"sessions": sessions})


async def session_snapshot(
    core: HttpCore, project: str, label: str, cpu: CpuWork = nullcontext
) -> Session | None:
    """
    One session with its scans and assessors (2 requests; 3 for a session shared into the
    project that has assessors), or None if the project has none.

    XNAT treats `,` `*` `%` in a filter value as OR and wildcards, so such labels are not sent
    as filters; either way only the exact label is kept.
    """
    project = project_id(project)
    segment(label, "session label")
    exact = label if not any(c in label for c in _FILTER_SPECIALS) else None
    folds = _Folds()
    await folds.read(core, project, exact, cpu)
    with cpu():
        found = [s for s in folds.build_sessions() if s.label == label]
    if found and not found[0].assessors and exact is not None:
        # A session shared into the project is listed under its label here, while its
        # assessors' `session_label` is its own label: look them up by ID (one request more,
        # only when the label found none).
        await folds.read_assessors(core, project, {"session_ID": found[0].id}, cpu)
        with cpu():
            found = [s for s in folds.build_sessions() if s.label == label]
    return found[0] if found else None


async def list_projects(core: HttpCore) -> list[Project]:
    rows = await _json_rows(core, "/data/projects", {"columns": _rows.PROJECT_COLUMNS})
    return _rows.projects(rows)
