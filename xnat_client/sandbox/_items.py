"""
Single objects as XNAT serializes them: `{"items": [{children, meta, data_fields}]}` for JSON
(ItemJSONBuilder/FlattenedItem, xnat-rest.md 3). `_document.py` writes the same items as XNAT's
XML document for `format=xml`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from xnat_client.sandbox._store import (
    Resources,
    Store,
    StoredAssessor,
    StoredProject,
    StoredResource,
    StoredScan,
    StoredSession,
    StoredSubject,
    modality_of,
)
from xnat_client.sandbox._xpaths import custom_name

JsonItem = dict[str, Any]


def _start_date(stamp: str) -> str:
    """`java.util.Date.toString()` of a stored timestamp."""
    try:
        moment = dt.datetime.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        moment = dt.datetime(2024, 1, 1)
    return moment.strftime("%a %b %d %H:%M:%S UTC %Y")


def _item(
    xsi_type: str, data: dict[str, Any], children: list[JsonItem], stamp: str = ""
) -> JsonItem:
    meta = {"create_event_id": 1, "xsi:type": xsi_type, "isHistory": False}
    meta["start_date"] = _start_date(stamp)
    return {"children": children, "meta": meta, "data_fields": data}


def _resource_items(folders: Resources, where: str = "") -> list[JsonItem]:
    return [
        _item(
            "xnat:resourceCatalog",
            {
                "xnat_abstractresource_id": int(r.id),
                "label": r.label,
                "URI": f"{where}/{r.label}/{r.label}_catalog.xml",
                "format": r.format,
                "content": r.content,
                "file_count": len(r.files),
                "file_size": r.file_size,
            },
            [],
        )
        for r in folders.values()
    ]


def _archive(project: str, label: str) -> str:
    """Where XNAT would keep an experiment's files (the catalogs' `URI` attribute)."""
    return f"/data/xnat/archive/{project}/arc001/{label}"


# Typed children of an item: the field path prefix, the child's xsi:type.
_TYPED = {
    "validation": "xnat:validationData",
    "demographics": "xnat:demographicData",
    "tracer": "xnat:petSessionData_tracer",  # a PET session's tracer (name, dose, ...)
}


def field_children(fields: dict[str, str], owner_type: str) -> tuple[dict[str, Any], list[Any]]:
    """
    Split stored fields into the item's own `data_fields` and its child items: typed children
    (`validation/status` -> a `validation` item of `xnat:validationData`) and custom fields
    (`fields/field[name=x]` -> a `fields/field` item `{"name": "x", "field": value}`).
    """
    data: dict[str, Any] = {}
    typed: dict[str, dict[str, Any]] = {}
    custom: list[JsonItem] = []
    for key, value in fields.items():
        name = custom_name(key)
        head, _, rest = key.partition("/")
        if name is not None:
            field_type = f"{owner_type.split(':')[0]}:{_family(owner_type)}_field"
            custom.append(_item(field_type, {"field": value, "name": name}, []))
        elif head in _TYPED and rest:
            typed.setdefault(head, {})[rest] = value
        else:
            data[key] = value
    children = [
        {"field": head, "items": [_item(_TYPED[head], values, [])]}
        for head, values in typed.items()
    ]
    return data, [*children, *_group("fields/field", custom)]


def _family(xsi_type: str) -> str:
    """The type that declares `fields/field` for items of `xsi_type`."""
    return "subjectData" if xsi_type == "xnat:subjectData" else "experimentData"


def _shares(e: StoredSession | StoredAssessor) -> list[JsonItem]:
    items = [
        _item("xnat:experimentData_share", {"label": label, "project": project}, [])
        for project, label in e.shares.items()
    ]
    return _group("sharing/share", items)


def _group(field: str, items: list[JsonItem]) -> list[JsonItem]:
    return [{"field": field, "items": items}] if items else []


def scan_item(session: StoredSession, scan: StoredScan) -> JsonItem:
    data: dict[str, Any] = {
        "xnat_imagescandata_id": int(scan.pk),
        "image_session_ID": session.id,
        "ID": scan.id,
        "type": scan.type,
        "quality": scan.quality,
        "series_description": scan.series_description,
        "note": scan.note,
        "UID": scan.uid,
        "project": session.project,
    }
    if scan.frames.isdigit():
        data["frames"] = int(scan.frames)
    where = f"{_archive(session.project, session.label)}/SCANS/{scan.id}"
    files = _group("file", _resource_items(scan.resources, where))
    return _item(scan.xsi_type, data, files, session.insert_date)


def assessor_item(a: StoredAssessor) -> JsonItem:
    own, children = field_children(a.fields, a.xsi_type)
    data = {"ID": a.id, "id": a.id, "label": a.label, "project": a.project}
    data["imageSession_ID"] = a.session_id
    if a.date:
        data["date"] = a.date
    data.update(own)
    where = f"{_archive(a.project, a.label)}/ASSESSORS/{a.label}"
    children = [
        *_group("out/file", _resource_items(a.out, where)),
        *_group("in/file", _resource_items(a.inputs, where)),
        *_group("resources/resource", _resource_items(a.resources, where)),
        *_shares(a),
        *children,
    ]
    return _item(a.xsi_type, data, children, a.insert_date)


def session_item(s: StoredSession) -> JsonItem:
    own, children = field_children(s.fields, s.xsi_type)
    data = {"ID": s.id, "id": s.id, "label": s.label, "project": s.project}
    data["subject_ID"] = s.subject_id
    modality = own.pop("modality", "") or modality_of(s.xsi_type)
    if modality:
        data["modality"] = modality
    if s.date:
        data["date"] = s.date
    data.update(own)
    where = f"{_archive(s.project, s.label)}/RESOURCES"
    children = [
        *_group("scans/scan", [scan_item(s, sc) for sc in s.scans.values()]),
        *_group("assessors/assessor", [assessor_item(a) for a in s.assessors.values()]),
        *_group("resources/resource", _resource_items(s.resources, where)),
        *_shares(s),
        *children,
    ]
    return _item(s.xsi_type, data, children, s.insert_date)


def subject_item(store: Store, s: StoredSubject) -> JsonItem:
    own, children = field_children(s.fields, "xnat:subjectData")
    data = {"ID": s.id, "id": s.id, "label": s.label, "project": s.project, **own}
    sessions = [session_item(e) for e in store.sessions_of(s.project) if e.subject_id == s.id]
    where = f"/data/xnat/archive/{s.project}/subjects/{s.label}"
    children = [
        *_group("experiments/experiment", sessions),
        *_group("resources/resource", _resource_items(s.resources, where)),
        *children,
    ]
    return _item("xnat:subjectData", data, children, s.insert_date)


def project_item(p: StoredProject) -> JsonItem:
    own, children = field_children(p.fields, "xnat:projectData")
    data = {"ID": p.id, "secondary_ID": p.secondary_id or p.id, "name": p.name}
    data.update({"description": p.description, **own})
    where = f"/data/xnat/archive/{p.id}/resources"
    children = [*_group("resources/resource", _resource_items(p.resources, where)), *children]
    return _item("xnat:projectData", data, children)


def envelope(item: JsonItem) -> dict[str, Any]:
    return {"items": [item]}


def catalog_xml(resource: StoredResource) -> str:
    """`GET .../resources/{r}` always answers with the catalog document (CatalogResource)."""
    entries = "".join(
        f'<cat:entry URI="{path}" ID="{path}" name="{path.rsplit("/", 1)[-1]}"/>'
        for path in resource.files
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<cat:Catalog ID="{resource.id}" xmlns:cat="http://nrg.wustl.edu/catalog">'
        f"<cat:entries>{entries}</cat:entries></cat:Catalog>\n"
    )
