"""
Reading a whole project (or one session) in a constant number of requests.

Three bulk listings, sent together: the project's subjects, its image sessions joined with
scans and scan resources, and its `proc:genProcData` assessors joined with output resources.
The number of requests does not depend on the number of sessions. Decoding and folding a large
listing runs in a worker thread so the event loop keeps serving other tasks meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import anyio

from . import _rows
from ._exceptions import BadResponse, InvalidName
from ._http import HttpCore
from ._models import PROC_XSI_TYPE, Project, ProjectSnapshot, Session
from ._paths import segment

SESSION_XSI_TYPE = "xnat:imageSessionData"
_XNAT_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_FILTER_SPECIALS = (",", "*", "%")


def project_id(project: str) -> str:
    """XNAT project IDs are `[A-Za-z0-9_-]+`; anything else cannot be a project."""
    if not isinstance(project, str) or not _XNAT_ID.match(project):
        raise InvalidName(f"project ID {project!r} is not [A-Za-z0-9_-]+")
    return project


async def _rows_of(core: HttpCore, path: str, params: Mapping[str, str]) -> list[_rows.Row]:
    payload = await core.get_json(path, params)
    try:
        return _rows.result_rows(payload)
    except ValueError as exc:
        raise BadResponse(str(exc), method="GET", path=path, status=200) from None


def _session_query(project: str, label: str | None) -> dict[str, str]:
    params = {"project": project, "xsiType": SESSION_XSI_TYPE, "columns": _rows.SESSION_COLUMNS}
    if label is not None:
        params["label"] = label
    return params


def _assessor_query(project: str, session_label: str | None) -> dict[str, str]:
    params = {"project": project, "xsiType": PROC_XSI_TYPE, "columns": _rows.ASSESSOR_COLUMNS}
    if session_label is not None:
        params["session_label"] = session_label
    return params


async def _gather(
    core: HttpCore, queries: dict[str, tuple[str, dict[str, str]]]
) -> dict[str, list[_rows.Row]]:
    results: dict[str, list[_rows.Row]] = {}

    async def one(key: str, path: str, params: dict[str, str]) -> None:
        results[key] = await _rows_of(core, path, params)

    async with anyio.create_task_group() as tg:
        for key, (path, params) in queries.items():
            tg.start_soon(one, key, path, params)
    return results


async def project_snapshot(core: HttpCore, project: str) -> ProjectSnapshot:
    """Subjects, sessions, scans, scan resources and assessors of a project: 3 requests."""
    project = project_id(project)
    queries = {
        "subjects": (
            f"/data/projects/{segment(project)}/subjects",
            {"columns": _rows.SUBJECT_COLUMNS},
        ),
        "sessions": ("/data/experiments", _session_query(project, None)),
        "assessors": ("/data/experiments", _assessor_query(project, None)),
    }
    with core.tally() as tally:
        rows = await _gather(core, queries)
    return await anyio.to_thread.run_sync(_build_snapshot, project, rows, tally.count)


def _build_snapshot(project: str, rows: dict[str, list[Any]], requests: int) -> ProjectSnapshot:
    return ProjectSnapshot(
        project=project,
        subjects=tuple(_rows.subjects(rows["subjects"])),
        sessions=tuple(_rows.sessions(rows["sessions"], rows["assessors"])),
        requests=requests,
    )


async def session_snapshot(core: HttpCore, project: str, label: str) -> Session | None:
    """
    One session with its scans and assessors (2 requests), or None if the project has none.

    XNAT treats `,` `*` `%` in a filter value as OR and wildcards, so such labels are not sent
    as filters; either way only the exact label is kept.
    """
    project = project_id(project)
    segment(label, "session label")
    exact = label if not any(c in label for c in _FILTER_SPECIALS) else None
    queries = {
        "sessions": ("/data/experiments", _session_query(project, exact)),
        "assessors": ("/data/experiments", _assessor_query(project, exact)),
    }
    rows = await _gather(core, queries)
    session_rows = [r for r in rows["sessions"] if _rows.text(r, "label") == label]
    found = _rows.sessions(session_rows, rows["assessors"])
    return found[0] if found else None


async def list_projects(core: HttpCore) -> list[Project]:
    rows = await _rows_of(core, "/data/projects", {"columns": _rows.PROJECT_COLUMNS})
    return _rows.projects(rows)
