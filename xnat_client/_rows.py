"""
XNAT listing rows -> models, in one place.

XNAT listings are tables of strings: "" stands for null, numbers are decimal strings, values
written through query parameters come back XML-escaped (`&quot;`), and a query that reaches
child tables returns one row per join (session x scan x scan resource; assessor x output
resource), with empty child columns when a parent has no children. Everything here turns that
into the frozen models of `_models.py`; nothing else in the package looks at a raw row.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote

from pydantic import BaseModel

from ._models import PROC_XSI_TYPE, Assessor, FileEntry, Project, Resource, Scan, Session, Subject

log = logging.getLogger("xnat_client")

Row = Mapping[str, Any]

SCAN = "xnat:imagescandata/"
SCAN_FILE = "xnat:imagescandata/file/"
PROC = "proc:genprocdata/"

SESSION_COLUMNS = (
    "ID,label,project,subject_ID,subject_label,date,xsiType,last_modified,"
    f"{SCAN}id,{SCAN}type,{SCAN}series_description,{SCAN}quality,{SCAN}note,{SCAN}frames,"
    f"{SCAN_FILE}label,{SCAN_FILE}format,{SCAN_FILE}file_count,{SCAN_FILE}file_size,"
    f"{SCAN_FILE}xnat_abstractresource_id"
)
ASSESSOR_COLUMNS = (
    "ID,label,project,session_ID,session_label,last_modified,"
    f"{PROC}proctype,{PROC}procversion,{PROC}procstatus,{PROC}validation/status,{PROC}note,"
    f"{PROC}inputs,{PROC}jobid,{PROC}jobnode,{PROC}jobstartdate,{PROC}memused,"
    f"{PROC}walltimeused,{PROC}out/file/label"
)
SUBJECT_COLUMNS = "ID,label,project"
PROJECT_COLUMNS = "ID,name,description"


def text(row: Row, column: str) -> str:
    """A string cell: missing or null -> "", XML entities undone."""
    value = row.get(column)
    if value.__class__ is not str:
        return "" if value is None else str(value)
    return unescape(value) if "&" in value else value


_XML_ENTITIES = (("&quot;", '"'), ("&apos;", "'"), ("&#39;", "'"), ("&lt;", "<"), ("&gt;", ">"))


def unescape(value: str) -> str:
    """Undo XNAT's XML escaping; the five XML entities take a fast path, others html.unescape."""
    rest = value
    for entity, _ in _XML_ENTITIES:
        rest = rest.replace(entity, "")
    if "&" in rest.replace("&amp;", ""):
        return html.unescape(value)
    for entity, char in _XML_ENTITIES:
        value = value.replace(entity, char)
    return value.replace("&amp;", "&")


def number(row: Row, column: str) -> int | None:
    """An integer cell: "" or anything that is not a whole number -> None."""
    value = text(row, column).strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        try:
            as_float = float(value)
        except ValueError:
            return None
        return int(as_float) if as_float.is_integer() else None


def inputs(raw: str) -> dict[str, Any] | None:
    """The `inputs` field as JSON (DAX stores a JSON object there); None when it is not one."""
    if not raw.strip():
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def result_rows(payload: Any) -> list[Row]:
    """The rows of a `{"ResultSet": {"Result": [...]}}` envelope; ValueError if it is not one."""
    try:
        rows = payload["ResultSet"]["Result"]
    except (KeyError, TypeError):
        raise ValueError("no ResultSet.Result in the listing") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError("ResultSet.Result is not a list of rows")
    return rows


def projects(rows: Iterable[Row]) -> list[Project]:
    return [
        Project(id=text(r, "ID"), name=text(r, "name"), description=text(r, "description"))
        for r in rows
        if text(r, "ID")
    ]


def subjects(rows: Iterable[Row]) -> list[Subject]:
    found: dict[str, Subject] = {}
    for r in rows:
        sid = text(r, "ID")
        if sid and sid not in found:
            found[sid] = Subject(id=sid, label=text(r, "label"), project=text(r, "project"))
    return list(found.values())


@dataclass
class _ScanRows:
    row: Row
    resources: dict[str, Resource] = field(default_factory=dict)

    def add(self, r: Row) -> None:
        label = text(r, SCAN_FILE + "label")
        if label and label not in self.resources:
            self.resources[label] = _construct(
                Resource,
                label=label,
                id=text(r, SCAN_FILE + "xnat_abstractresource_id"),
                format=text(r, SCAN_FILE + "format"),
                file_count=number(r, SCAN_FILE + "file_count"),
                file_size=number(r, SCAN_FILE + "file_size"),
            )

    def build(self, scan_id: str) -> Scan:
        r = self.row
        return _construct(
            Scan,
            id=scan_id,
            type=text(r, SCAN + "type"),
            series_description=text(r, SCAN + "series_description"),
            quality=text(r, SCAN + "quality"),
            note=text(r, SCAN + "note"),
            frames=number(r, SCAN + "frames"),
            xsi_type="",
            resources=tuple(self.resources.values()),
        )


@dataclass
class _SessionRows:
    row: Row
    scans: dict[str, _ScanRows] = field(default_factory=dict)

    def add(self, r: Row) -> None:
        scan_id = text(r, SCAN + "id")
        if not scan_id:
            return  # the LEFT JOIN row of a session without scans
        scan = self.scans.get(scan_id)
        if scan is None:
            scan = self.scans[scan_id] = _ScanRows(r)
        scan.add(r)

    def build(self, session_id: str, assessors: list[Assessor]) -> Session:
        r = self.row
        return _construct(
            Session,
            id=session_id,
            label=text(r, "label"),
            project=text(r, "project"),
            subject_id=text(r, "subject_ID"),
            subject_label=text(r, "subject_label"),
            xsi_type=text(r, "xsiType"),
            date=text(r, "date"),
            last_modified=text(r, "last_modified"),
            scans=tuple(s.build(scan_id) for scan_id, s in self.scans.items()),
            assessors=tuple(assessors),
        )


def sessions(session_rows: Iterable[Row], assessor_rows: Iterable[Row]) -> list[Session]:
    """Fold the joined session and assessor listings into sessions, in listing order."""
    grouped: dict[str, _SessionRows] = {}
    for r in session_rows:
        sid = text(r, "ID")
        if not sid:
            continue
        entry = grouped.get(sid)
        if entry is None:
            entry = grouped[sid] = _SessionRows(r)
        entry.add(r)
    by_session: dict[str, list[Assessor]] = {}
    for assessor in assessors(assessor_rows):
        by_session.setdefault(assessor.session_id, []).append(assessor)
    orphans = set(by_session) - set(grouped)
    if orphans:
        log.debug("%d assessors belong to sessions outside this listing", len(orphans))
    return [e.build(sid, by_session.get(sid, [])) for sid, e in grouped.items()]


def assessors(rows: Iterable[Row]) -> list[Assessor]:
    """One assessor per ID; the output-resource join is collected into `resources`."""
    first: dict[str, Row] = {}
    outputs: dict[str, dict[str, None]] = {}
    for r in rows:
        aid = text(r, "ID")
        if not aid:
            continue
        if aid not in first:
            first[aid] = r
            outputs[aid] = {}
        label = text(r, PROC + "out/file/label")
        if label:
            outputs[aid][label] = None
    return [_assessor(aid, r, list(outputs[aid])) for aid, r in first.items()]


def _assessor(aid: str, r: Row, resources: list[str]) -> Assessor:
    raw_inputs = text(r, PROC + "inputs")
    return _construct(
        Assessor,
        id=aid,
        label=text(r, "label"),
        project=text(r, "project"),
        session_id=text(r, "session_ID"),
        xsi_type=PROC_XSI_TYPE,
        session_label=text(r, "session_label"),
        proctype=text(r, PROC + "proctype"),
        procversion=text(r, PROC + "procversion"),
        procstatus=text(r, PROC + "procstatus"),
        qcstatus=text(r, PROC + "validation/status"),
        note=text(r, PROC + "note"),
        inputs=inputs(raw_inputs),
        inputs_raw=raw_inputs,
        jobid=text(r, PROC + "jobid"),
        jobnode=text(r, PROC + "jobnode"),
        jobstartdate=text(r, PROC + "jobstartdate"),
        memused=text(r, PROC + "memused"),
        walltimeused=text(r, PROC + "walltimeused"),
        last_modified=text(r, "last_modified"),
        resources=tuple(resources),
    )


_M = TypeVar("_M", bound=BaseModel)


def _construct(model: type[_M], **values: Any) -> _M:
    """
    A model from values this module has already parsed and typed, without validating them
    again: rows are folded here and nowhere else, so a second check would only cost time
    (about half of a 10,000-session snapshot). Every field is passed, so nothing is defaulted.
    """
    return model.model_construct(_fields_set=None, **values)


def files(rows: Iterable[Row]) -> list[FileEntry]:
    """File listing rows; the name is the path after `/files/` in the URI, unquoted."""
    found: list[FileEntry] = []
    for r in rows:
        uri = text(r, "URI")
        name = unquote(uri.split("/files/", 1)[1]) if "/files/" in uri else text(r, "Name")
        if name:
            found.append(
                FileEntry(
                    name=name, size=number(r, "Size"), uri=uri, resource=text(r, "collection")
                )
            )
    return found
