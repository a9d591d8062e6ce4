"""
Single objects: GET (JSON items or XML), PUT (create 201 / merge 200, body = ID) and DELETE.

The assessor PUT follows ExptAssessmentResource.handlePut (xnat-rest.md 4.2): the type comes
from `xsiType` (any case), values from xpath or shortcut query parameters, XML-escaped; an
existing assessor (by ID, then by label in the project) gets the values merged in.
"""

from __future__ import annotations

import json

from starlette.responses import Response

from xnat_client.sandbox import _resolve
from xnat_client.sandbox._call import Call
from xnat_client.sandbox._document import to_xml
from xnat_client.sandbox._errors import HttpError
from xnat_client.sandbox._items import (
    JsonItem,
    assessor_item,
    envelope,
    project_item,
    scan_item,
    session_item,
    subject_item,
)
from xnat_client.sandbox._store import (
    ASSESSOR_TYPES,
    VALID_ID,
    StoredAssessor,
    StoredSession,
    canonical_type,
    timestamp,
)
from xnat_client.sandbox._xml import escape_xml
from xnat_client.sandbox._xpaths import field_key

# Query parameters that steer a write and are not values to store.
_CONTROL = frozenset(
    {
        "xsitype",
        "element_0",
        "req_format",
        "allowdatadeletion",
        "event_reason",
        "event_type",
        "event_action",
        "event_id",
        "inbody",
        "removefiles",
        "xnat_csrf",
        "format",
        "triggerpipelines",
    }
)
# Shortcut names a write accepts, and the field path each one sets.
_SHORTCUT_FIELDS = {
    "validation_status": "validation/status",
    "validation_method": "validation/method",
    "validation_notes": "validation/notes",
    "validation_date": "validation/date",
}


def _represent(call: Call, item: JsonItem) -> Response:
    if call.fmt == "xml":
        return Response(to_xml(item), media_type="text/xml")
    return Response(json.dumps(envelope(item)), media_type="application/json")


async def get_project(call: Call) -> Response:
    return _represent(call, project_item(_resolve.project(call.store, call.target)))


async def get_subject(call: Call) -> Response:
    subject = _resolve.subject(call.store, call.target)
    return _represent(call, subject_item(call.store, subject))


async def get_experiment(call: Call) -> Response:
    found = _resolve.experiment(call.store, call.target)
    item = session_item(found) if isinstance(found, StoredSession) else assessor_item(found)
    return _represent(call, item)


async def get_scan(call: Call) -> Response:
    session = _resolve.session(call.store, call.target)
    return _represent(call, scan_item(session, _resolve.scan(call.store, call.target)))


async def get_assessor(call: Call) -> Response:
    return _represent(call, assessor_item(_resolve.assessor(call.store, call.target)))


def written_values(call: Call) -> tuple[str, dict[str, str]]:
    """The xsiType named by the request, and every value it sets, XML-escaped, by field path."""
    xsi_type = call.params.get("xsiType") or call.params.get("ELEMENT_0") or ""
    values: dict[str, str] = {}
    for key, raw in call.params.multi_items():
        if key.lower() in _CONTROL:
            continue
        if "/" in key:
            element, _, path = key.partition("/")
            xsi_type = xsi_type or element
            values[field_key(path)] = escape_xml(raw)
        else:
            path = _SHORTCUT_FIELDS.get(key, key if key in ("ID", "label") else key.lower())
            values[path] = escape_xml(raw)
    if "id" in values:
        values["ID"] = values.pop("id")
    return canonical_type(xsi_type) if xsi_type else "", values


def _apply(obj: StoredSession | StoredAssessor, values: dict[str, str]) -> None:
    for key, value in values.items():
        if key == "date":
            obj.date = value
        elif key not in ("ID", "label", "project"):
            obj.fields[key] = value
    obj.last_modified = timestamp()


def _text(body: str, status: int) -> Response:
    return Response(body, status_code=status, media_type="text/plain")


async def put_assessor(call: Call) -> Response:
    store, t = call.store, call.target
    session = _resolve.session(store, t)
    xsi_type, values = written_values(call)
    if xsi_type and xsi_type.lower() not in ASSESSOR_TYPES:
        raise HttpError(422, "Only xnat:ImageAssessor documents can be PUT to this address.")
    found = None
    if "ID" in values:
        found = _resolve.assessor_in(store, session, values["ID"])
    found = found or _resolve.assessor_in(store, session, t.assessor or "")
    if found is not None:
        return _merge(found, values)
    if not xsi_type:
        raise HttpError(417, "Need POST Contents")
    new_id = values.get("ID", "")
    if new_id and (not VALID_ID.match(new_id) or new_id in store.experiments):
        raise HttpError(417, "Invalid character in experiment label.")
    label = values.get("label") or escape_xml(t.assessor or "")
    project = t.project if t.project in session.shares else session.project
    assessor = store.add_assessor(session, label, xsi_type, id=new_id, project=project)
    _apply(assessor, values)
    return _text(assessor.id, 201)


def _merge(found: StoredSession | StoredAssessor, values: dict[str, str]) -> Response:
    if values.get("ID", found.id) != found.id:
        raise HttpError(400, "ID cannot be modified")
    if values.get("label", found.label) != found.label:
        raise HttpError(400, "Label must be modified through separate URI.")
    if values.get("project", found.project) != found.project:
        raise HttpError(409, "Project must be modified through separate URI.")
    _apply(found, values)
    return _text(found.id, 200)


async def put_experiment(call: Call) -> Response:
    """Create or update a session (or, addressed as an experiment, an assessor)."""
    store, t = call.store, call.target
    xsi_type, values = written_values(call)
    found = store.find_experiment(t.project, t.experiment or "")
    if found is not None:
        return _merge(found, values)
    if t.project is None or t.subject is None:
        raise HttpError(404, _resolve.NO_EXPERIMENT)
    subject = _resolve.subject(store, t)
    if xsi_type.lower() in ASSESSOR_TYPES:
        raise HttpError(422, "Assessors are created below their session.")
    label = values.get("label") or escape_xml(t.experiment or "")
    session = store.add_session(subject, label, xsi_type or "xnat:mrSessionData")
    _apply(session, values)
    return _text(session.id, 201)


async def put_subject(call: Call) -> Response:
    store, t = call.store, call.target
    project = _resolve.project(store, t)
    _, values = written_values(call)
    found = store.find_subject(project.id, t.subject or "")
    if found is not None:
        found.fields.update({k: v for k, v in values.items() if k not in ("ID", "label")})
        return _text(found.id, 200)
    label = values.get("label") or escape_xml(t.subject or "")
    subject = store.add_subject(project.id, label, values.get("ID", ""))
    return _text(subject.id, 201)


async def put_project(call: Call) -> Response:
    key = call.target.project or ""
    if key in call.store.projects:
        return _text(key, 200)
    if not VALID_ID.match(key):
        raise HttpError(417, "Invalid character in project ID.")
    _, values = written_values(call)
    call.store.add_project(key, values.get("name", ""), values.get("description", ""))
    return _text(key, 201)


async def put_scan(call: Call) -> Response:
    store, t = call.store, call.target
    session = _resolve.session(store, t)
    xsi_type, values = written_values(call)
    scan = session.scans.get(t.scan or "")
    if scan is None:
        scan = store.add_scan(session, t.scan or "", xsi_type=xsi_type or "xnat:mrScanData")
    for key in ("type", "series_description", "quality", "note", "frames", "uid"):
        if key in values:
            setattr(scan, key, values[key])
    session.last_modified = timestamp()
    return _text("", 200)


async def delete_experiment(call: Call) -> Response:
    t = call.target
    found = (
        _resolve.assessor(call.store, t)
        if t.assessor is not None
        else _resolve.experiment(call.store, t)
    )
    call.store.delete_experiment(found)
    return _text("", 200)


async def delete_subject(call: Call) -> Response:
    call.store.delete_subject(_resolve.subject(call.store, call.target))
    return _text("", 200)


async def delete_scan(call: Call) -> Response:
    session = _resolve.session(call.store, call.target)
    scan = _resolve.scan(call.store, call.target)
    del session.scans[scan.id]
    session.last_modified = timestamp()
    return _text("", 200)


async def share_experiment(call: Call) -> Response:
    """`PUT .../experiments/{e}/projects/{other}[?label=...]`: share a session into another
    project under `label` there (ExperimentShareResource; pyxnat's `share()`); 200, empty."""
    store, t = call.store, call.target
    session = _resolve.session(store, t)
    other = t.share or ""
    if other not in store.projects:
        raise HttpError(404, f"Unable to identify project {other}")
    if other == session.project:
        raise HttpError(409, f"Already assigned to project:{other}")
    label = escape_xml(call.params.get("label", "")) or session.label
    found = store.find_experiment(other, label)
    if found is not None and found is not session:
        raise HttpError(409, f"Label {label} is already used in project {other}")
    store.share(session, other, label)
    return _text("", 200)
