"""
XNAT listing rows as dicts (JSON listings) -> models.

Small listings (projects, files, and anything a test scripts) arrive as JSON: one dict per
row, every value a string, "" for null. The snapshot's bulk listings are folded straight from
CSV by `_fold.py`; `sessions` and `assessors` here feed dict rows through the same folds, so
both paths give the same models.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from . import _fold
from ._cells import clean, number
from ._models import Assessor, FileEntry, Project, Session, Subject

log = logging.getLogger("xnat_client")

Row = Mapping[str, Any]

SESSION_COLUMNS = ",".join(_fold.SESSION_CELLS)
ASSESSOR_COLUMNS = ",".join(_fold.ASSESSOR_CELLS)
SUBJECT_COLUMNS = ",".join(_fold.SUBJECT_CELLS)
PROJECT_COLUMNS = "ID,name,description"


def text(row: Row, column: str) -> str:
    """A string cell: missing or null -> "", XML entities undone."""
    value = row.get(column)
    if value.__class__ is not str:
        return "" if value is None else str(value)
    return clean(value)


def result_rows(payload: Any) -> list[Row]:
    """The rows of a `{"ResultSet": {"Result": [...]}}` envelope; ValueError if it is not one."""
    try:
        rows = payload["ResultSet"]["Result"]
    except (KeyError, TypeError):
        raise ValueError("no ResultSet.Result in the listing") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError("ResultSet.Result is not a list of rows")
    return rows


def table(rows: Iterable[Row], columns: Sequence[str]) -> list[list[str]]:
    """Dict rows as positional rows of `columns` (missing or null cells -> ""), unescaped."""
    return [[text(r, c) for c in columns] for r in rows]


def projects(rows: Iterable[Row]) -> list[Project]:
    return [
        Project(id=text(r, "ID"), name=text(r, "name"), description=text(r, "description"))
        for r in rows
        if text(r, "ID")
    ]


def subjects(rows: Iterable[Row]) -> list[Subject]:
    fold = _fold.SubjectFold(_fold.SUBJECT_CELLS, _fold.new_pool())
    fold.add(table(rows, _fold.SUBJECT_CELLS), escaped=False)
    return fold.build()


def assessors(rows: Iterable[Row]) -> list[Assessor]:
    """One assessor per ID; the output-resource join is collected into `resources`."""
    fold = _fold.AssessorFold(_fold.ASSESSOR_CELLS, _fold.new_pool())
    fold.add(table(rows, _fold.ASSESSOR_CELLS), escaped=False)
    return fold.build()


def sessions(session_rows: Iterable[Row], assessor_rows: Iterable[Row]) -> list[Session]:
    """Fold the joined session and assessor listings into sessions, in listing order."""
    pool = _fold.new_pool()
    found = _fold.AssessorFold(_fold.ASSESSOR_CELLS, pool)
    found.add(table(assessor_rows, _fold.ASSESSOR_CELLS), escaped=False)
    fold = _fold.SessionFold(_fold.SESSION_CELLS, pool)
    fold.add(table(session_rows, _fold.SESSION_CELLS), escaped=False)
    return attach(fold, found)


def attach(sessions: _fold.SessionFold, assessors: _fold.AssessorFold) -> list[Session]:
    """The sessions with their assessors; assessors of sessions not listed are left out."""
    by_session = assessors.by_session()
    orphans = set(by_session).difference(sessions.found)
    if orphans:
        log.debug("%d assessors belong to sessions outside this listing", len(orphans))
    return sessions.build(by_session)


def files(rows: Iterable[Row]) -> list[FileEntry]:
    """File listing rows; the name is the path after `/files/` in the URI, unquoted."""
    found: list[FileEntry] = []
    for r in rows:
        uri = text(r, "URI")
        name = unquote(uri.split("/files/", 1)[1]) if "/files/" in uri else text(r, "Name")
        if name:
            size = number(text(r, "Size").strip())
            found.append(FileEntry(name=name, size=size, uri=uri, resource=text(r, "collection")))
    return found
