"""
The search service: `POST /data/search` with an `xdat:bundle` (SearchResource), and the display
fields `GET /data/search/elements/{type}` lists for each searchable type.

A bundle names a root type, the fields to show (`xdat:search_field`: element name + field ID)
and criteria (`xdat:search_where`, nested `xdat:child_set`, each `xdat:criteria` a schema field,
a comparison and a value). Field IDs are display-field IDs (`SESSION_ID`, `PROJECT`, as pyxnat
sends from `inspect.datatypes`) or xpaths below the type (`ID`, `project`, as xnatpy's
`query()` sends); XNAT resolves an xpath to the display field over the same column, so both
name one field here. Result keys are the lower-cased field ID for fields of the root type and
`<element sql name>_<field id>` for others (`xnat_mrscandata_type`); a field of a scan type on a
session root gives one row per scan. The comparisons are XNAT's `=`, `<`, `>`, `<=`, `>=` and
`LIKE` (`%` as the wildcard).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from starlette.responses import Response

from xnat_client.sandbox._errors import HttpError
from xnat_client.sandbox._listing import render
from xnat_client.sandbox._render import csv_line
from xnat_client.sandbox._store import (
    ASSESSOR_TYPES,
    SESSION_TYPES,
    Store,
    canonical_type,
    modality_of,
)
from xnat_client.sandbox._xml import escape_xml

XDAT = "{http://nrg.wustl.edu/security}"
Getter = Callable[[Any], str]


@dataclass(frozen=True, slots=True)
class DisplayField:
    id: str
    header: str
    get: Getter
    xpath: str = ""  # the path below the type that names the same column


def _attr(name: str) -> Getter:
    return lambda o: getattr(o, name, "")


def _field(path: str) -> Getter:
    return lambda o: o.fields.get(path, "")


def _fields_for(family: str, store: Store) -> list[DisplayField]:

    def subject_label(session: Any) -> str:
        return str(getattr(store.subjects.get(session.subject_id), "label", ""))

    def session_label(assessor: Any) -> str:
        return str(getattr(store.experiments.get(assessor.session_id), "label", ""))

    common = [
        DisplayField("INSERT_DATE", "Inserted", _attr("insert_date"), "meta/insert_date"),
        DisplayField(
            "LAST_MODIFIED", "Last Modified", _attr("last_modified"), "meta/last_modified"
        ),
    ]
    table: dict[str, list[DisplayField]] = {
        "project": [
            DisplayField("ID", "ID", _attr("id"), "id"),
            DisplayField("SECONDARY_ID", "Title", lambda p: p.secondary_id or p.id, "secondary_id"),
            DisplayField("NAME", "Name", _attr("name"), "name"),
            DisplayField("DESCRIPTION", "Description", _attr("description"), "description"),
        ],
        "subject": [
            DisplayField("SUBJECT_ID", "Subject", _attr("id"), "id"),
            DisplayField("SUBJECT_LABEL", "Label", _attr("label"), "label"),
            DisplayField("PROJECT", "Project", _attr("project"), "project"),
            DisplayField(
                "GENDER_TEXT", "Gender", _field("demographics/gender"), "demographics/gender"
            ),
            DisplayField("HANDEDNESS_TEXT", "Handedness", _field("demographics/handedness"), ""),
            DisplayField("YOB", "YOB", _field("demographics/yob"), "demographics/yob"),
            *common,
        ],
        "session": [
            DisplayField("SESSION_ID", "MR ID", _attr("id"), "id"),
            DisplayField("LABEL", "Label", _attr("label"), "label"),
            DisplayField("PROJECT", "Project", _attr("project"), "project"),
            DisplayField("SUBJECT_ID", "Subject", _attr("subject_id"), "subject_id"),
            DisplayField("SUBJECT_LABEL", "Subject Label", subject_label, ""),
            DisplayField("DATE", "Date", _attr("date"), "date"),
            DisplayField("MODALITY", "Modality", lambda s: modality_of(s.xsi_type), "modality"),
            *common,
        ],
        "scan": [
            DisplayField("ID", "Scan", _attr("id"), "id"),
            DisplayField("TYPE", "Type", _attr("type"), "type"),
            DisplayField("SERIES_DESCRIPTION", "Series", _attr("series_description"), ""),
            DisplayField("QUALITY", "Quality", _attr("quality"), "quality"),
            DisplayField("NOTE", "Note", _attr("note"), "note"),
            DisplayField("FRAMES", "Frames", _attr("frames"), "frames"),
        ],
        "assessor": [
            DisplayField("ID", "ID", _attr("id"), "id"),
            DisplayField("LABEL", "Label", _attr("label"), "label"),
            DisplayField("PROJECT", "Project", _attr("project"), "project"),
            DisplayField("SESSION_ID", "Session", _attr("session_id"), "imagesession_id"),
            DisplayField("SESSION_LABEL", "Session Label", session_label, ""),
            DisplayField("DATE", "Date", _attr("date"), "date"),
            DisplayField("PROCSTATUS", "Status", _field("procstatus"), "procstatus"),
            DisplayField("PROCTYPE", "Type", _field("proctype"), "proctype"),
            DisplayField("PROCVERSION", "Version", _field("procversion"), "procversion"),
            DisplayField("JOBID", "Job", _field("jobid"), "jobid"),
            DisplayField("QCSTATUS", "QC", _field("validation/status"), "validation/status"),
            *common,
        ],
    }
    return table[family]


def family(xsi_type: str) -> str | None:
    lowered = xsi_type.lower()
    if lowered == "xnat:projectdata":
        return "project"
    if lowered == "xnat:subjectdata":
        return "subject"
    if lowered in SESSION_TYPES:
        return "session"
    if lowered in ASSESSOR_TYPES:
        return "assessor"
    if lowered.endswith("scandata"):
        return "scan"
    return None


def element_fields(store: Store, xsi_type: str) -> list[DisplayField]:
    """The display fields of a searchable type; [] for a type the server does not search."""
    found = family(xsi_type)
    return _fields_for(found, store) if found else []


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    element: str
    field: DisplayField
    joined: bool  # a field of a scan type on a session root: one row per scan


def _resolve(store: Store, root_family: str, element: str, field_id: str) -> _Column | None:
    kind = family(element)
    if kind is None:
        return None
    fields = _fields_for(kind, store)
    wanted = field_id.split("/", 1)[1] if "/" in field_id else field_id
    found = next((f for f in fields if f.id == wanted.upper()), None)
    if found is None:
        path = wanted.lower()
        found = next((f for f in fields if f.xpath and f.xpath == path), None)
    if found is None:
        found = DisplayField(wanted.upper(), wanted, _field(wanted.lower()), wanted.lower())
    joined = kind == "scan" and root_family == "session"
    if kind != root_family and not joined:
        return None
    key = (
        found.id.lower()
        if not joined
        else f"{element.replace(':', '_').lower()}_{found.id.lower()}"
    )
    return _Column(key, canonical_type(element), found, joined)


Predicate = Callable[[Any, Any], bool]  # over (root object, scan of the row or None)


def _comparison(op: str, value: str) -> Callable[[str], bool]:
    op = op.strip().upper()
    wanted = escape_xml(value)
    if op == "LIKE":
        body = ".*".join(re.escape(p) for p in re.split(r"[%*]", wanted))
        pattern = re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL)
        return lambda v: bool(pattern.match(v))
    if op == "=":
        return lambda v: v == wanted
    ordering: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        ">=": lambda a, b: a >= b,
    }
    if op not in ordering:
        raise HttpError(400, f"Unknown comparison {op!r}")
    compare = ordering[op]

    def ordered(v: str) -> bool:
        try:
            return compare(float(v), float(wanted))
        except ValueError:
            return compare(v, wanted)

    return ordered


def _criteria(store: Store, root: str, node: ElementTree.Element, used: list[_Column]) -> Predicate:
    """The `search_where`/`child_set` tree as one predicate; the columns it tests go to `used`."""
    tests: list[Predicate] = []
    for child in node:
        if child.tag == f"{XDAT}criteria":
            schema_field = child.findtext(f"{XDAT}schema_field") or ""
            element, _, field_id = schema_field.partition("/")
            column = _resolve(store, family(root) or "", element, field_id)
            if column is None:
                raise HttpError(400, f"Unknown search field {schema_field!r}")
            used.append(column)
            test = _comparison(
                child.findtext(f"{XDAT}comparison_type") or "=",
                child.findtext(f"{XDAT}value") or "",
            )
            tests.append(_test(column, test))
        elif child.tag == f"{XDAT}child_set":
            tests.append(_criteria(store, root, child, used))
    if not tests:
        return lambda obj, scan: True
    if node.get("method", "AND").upper() == "OR":
        return lambda obj, scan: any(t(obj, scan) for t in tests)
    return lambda obj, scan: all(t(obj, scan) for t in tests)


def _test(column: _Column, test: Callable[[str], bool]) -> Predicate:
    """One criterion over (root object, scan): a scan field tests the scan of the row."""
    get = column.field.get
    if column.joined:
        return lambda obj, scan: scan is not None and test(get(scan))
    return lambda obj, scan: test(get(obj))


def _row(columns: list[_Column], obj: Any, scan: Any) -> dict[str, str]:
    return {
        c.key: (c.field.get(scan) if scan is not None else "") if c.joined else c.field.get(obj)
        for c in columns
    }


def _roots(store: Store, root: str) -> Iterable[Any]:
    kind, wanted = family(root), canonical_type(root)
    if kind == "project":
        return store.projects.values()
    if kind == "subject":
        return store.subjects.values()
    if kind == "session":
        every = store.sessions_of(None)
        return (
            every
            if wanted == "xnat:imageSessionData"
            else (s for s in every if s.xsi_type == wanted)
        )
    if kind == "assessor":
        every_a = store.assessors_of(None)
        if root.lower() in ("xnat:imageassessordata", "xnat:deriveddata"):
            return every_a
        return (a for a in every_a if a.xsi_type == wanted)
    raise HttpError(400, f"The search service does not search {root}")


def parse_bundle(body: bytes, content_type: str) -> ElementTree.Element:
    """The `xdat:bundle` of a raw or multipart body; 422 when it is not one."""
    if content_type.startswith("multipart/"):
        start = body.find(b"<")
        end = body.rfind(b">")
        body = body[start : end + 1] if start >= 0 else b""
    try:
        bundle = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise HttpError(422, f"Unable to parse the search document: {exc}") from None
    if bundle.tag != f"{XDAT}bundle":
        raise HttpError(422, "Expected an xdat:stored_search (xdat:bundle) document.")
    return bundle


def search(store: Store, bundle: ElementTree.Element, fmt: str) -> Response:
    """Run a bundle; one row per root object (per scan when a scan field is asked)."""
    root = (bundle.findtext(f"{XDAT}root_element_name") or "").strip()
    root_family = family(root)
    if root_family is None:
        raise HttpError(400, f"The search service does not search {root!r}")
    columns: list[_Column] = []
    for node in bundle.findall(f"{XDAT}search_field"):
        element = node.findtext(f"{XDAT}element_name") or root
        column = _resolve(store, root_family, element, node.findtext(f"{XDAT}field_ID") or "")
        if column is not None and column.key not in {c.key for c in columns}:
            columns.append(column)
    where = bundle.find(f"{XDAT}search_where")
    tested: list[_Column] = []
    keep = _criteria(store, root, where, tested) if where is not None else _anything
    joined = any(c.joined for c in (*columns, *tested))
    rows = [
        _row(columns, obj, scan)
        for obj in _roots(store, root)
        for scan in ((list(obj.scans.values()) or [None]) if joined else [None])
        if keep(obj, scan)
    ]
    return _answer(root, columns, rows, fmt)


def _anything(obj: Any, scan: Any) -> bool:
    return True


def _answer(root: str, columns: list[_Column], rows: list[dict[str, str]], fmt: str) -> Response:
    headers = [c.key for c in columns]
    if fmt == "csv":
        lines = [csv_line(headers), *(csv_line([r[h] for h in headers]) for r in rows)]
        return Response("\n".join(lines) + "\n", media_type="text/csv")
    described = [
        {
            "key": c.key,
            "element_name": c.element,
            "id": c.field.id,
            "header": c.field.header,
            "xPATH": f"{c.element}.{c.field.id}",
        }
        for c in columns
    ]
    return render(
        rows, headers, "json", {"Columns": described, "rootElementName": canonical_type(root)}
    )


def element_field_rows(store: Store, xsi_type: str, fmt: str) -> Response:
    """`GET /data/search/elements/{type}`: the type's display fields."""
    fields = element_fields(store, xsi_type)
    rows = [
        {
            "FIELD_ID": f.id,
            "HEADER": f.header,
            "SUMMARY": f.header,
            "TYPE": "string",
            "REQUIRES_VALUE": "false",
            "DESC": "",
            "ELEMENT_NAME": canonical_type(xsi_type),
            "SRC": "0",
        }
        for f in fields
    ]
    headers = [
        "FIELD_ID",
        "HEADER",
        "SUMMARY",
        "TYPE",
        "REQUIRES_VALUE",
        "DESC",
        "ELEMENT_NAME",
        "SRC",
    ]
    return render(rows, headers, fmt)
