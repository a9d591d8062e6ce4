"""
Single objects as XNAT serializes them: `{"items": [{children, meta, data_fields}]}` for JSON
(ItemJSONBuilder/FlattenedItem, xnat-rest.md 3) and a plain XNAT XML document for `format=xml`
(what pyxnat's `EObject.get()` reads).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from xnat_client.server._store import (
    Assessor,
    Project,
    Resource,
    Resources,
    Scan,
    Session,
    Store,
    Subject,
)

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


def _resource_items(folders: Resources) -> list[JsonItem]:
    return [
        _item(
            "xnat:resourceCatalog",
            {
                "xnat_abstractresource_id": int(r.id),
                "label": r.label,
                "format": r.format,
                "content": r.content,
                "file_count": len(r.files),
                "file_size": r.file_size,
            },
            [],
        )
        for r in folders.values()
    ]


def _field_children(fields: dict[str, str]) -> tuple[dict[str, Any], list[JsonItem]]:
    """Flat fields stay in data_fields; `validation/...` becomes a typed child item."""
    data: dict[str, Any] = {}
    validation: dict[str, Any] = {}
    for key, value in fields.items():
        if key.startswith("validation/"):
            validation[key[len("validation/") :]] = value
        else:
            data[key] = value
    children = []
    if validation:
        child = _item("xnat:validationData", validation, [])
        children.append({"field": "validation", "items": [child]})
    return data, children


def _group(field: str, items: list[JsonItem]) -> list[JsonItem]:
    return [{"field": field, "items": items}] if items else []


def scan_item(session: Session, scan: Scan) -> JsonItem:
    data: dict[str, Any] = {
        "xnat_imagescandata_id": int(scan.pk),
        "image_session_ID": session.id,
        "ID": scan.id,
        "type": scan.type,
        "quality": scan.quality,
        "series_description": scan.series_description,
        "note": scan.note,
        "UID": scan.uid,
    }
    if scan.frames.isdigit():
        data["frames"] = int(scan.frames)
    files = _group("file", _resource_items(scan.resources))
    return _item(scan.xsi_type, data, files, session.insert_date)


def assessor_item(a: Assessor) -> JsonItem:
    own, children = _field_children(a.fields)
    data = {"ID": a.id, "label": a.label, "project": a.project, "imageSession_ID": a.session_id}
    if a.date:
        data["date"] = a.date
    data.update(own)
    children = [
        *_group("out/file", _resource_items(a.out)),
        *_group("in/file", _resource_items(a.inputs)),
        *_group("resources/resource", _resource_items(a.resources)),
        *children,
    ]
    return _item(a.xsi_type, data, children, a.insert_date)


def session_item(s: Session) -> JsonItem:
    own, children = _field_children(s.fields)
    data = {"ID": s.id, "label": s.label, "project": s.project, "subject_ID": s.subject_id}
    if s.date:
        data["date"] = s.date
    data.update(own)
    children = [
        *_group("scans/scan", [scan_item(s, sc) for sc in s.scans.values()]),
        *_group("assessors/assessor", [assessor_item(a) for a in s.assessors.values()]),
        *_group("resources/resource", _resource_items(s.resources)),
        *children,
    ]
    return _item(s.xsi_type, data, children, s.insert_date)


def subject_item(store: Store, s: Subject) -> JsonItem:
    data = {"ID": s.id, "label": s.label, "project": s.project, **s.fields}
    sessions = [session_item(e) for e in store.sessions_of(s.project) if e.subject_id == s.id]
    children = [
        *_group("experiments/experiment", sessions),
        *_group("resources/resource", _resource_items(s.resources)),
    ]
    return _item("xnat:subjectData", data, children, s.insert_date)


def project_item(p: Project) -> JsonItem:
    data = {"ID": p.id, "secondary_ID": p.secondary_id or p.id, "name": p.name}
    data.update({"description": p.description, **p.fields})
    return _item(
        "xnat:projectData", data, _group("resources/resource", _resource_items(p.resources))
    )


def envelope(item: JsonItem) -> dict[str, Any]:
    return {"items": [item]}


def to_xml(item: JsonItem) -> str:
    """An XNAT-style XML document of a JSON item (values are stored XML-escaped already)."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + _element(item, root=True) + "\n"


_NS = (
    ' xmlns:xnat="http://nrg.wustl.edu/xnat" xmlns:proc="http://nrg.wustl.edu/proc"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
_ATTRIBUTES = ("ID", "project", "label", "type", "format", "content", "UID")


def _element(item: JsonItem, root: bool = False, tag: str = "") -> str:
    xsi_type = item["meta"]["xsi:type"]
    tag = tag or xsi_type
    prefix = xsi_type.split(":")[0]
    data = item["data_fields"]
    attrs = "".join(f' {k}="{data[k]}"' for k in _ATTRIBUTES if k in data)
    head = f'<{tag}{attrs} xsi:type="{xsi_type}"' + (_NS if root else "")
    body = [
        f"<{prefix}:{k}>{v}</{prefix}:{k}>"
        for k, v in data.items()
        if k not in _ATTRIBUTES and "/" not in k
    ]
    for child in item["children"]:
        parts = child["field"].split("/")
        inner_tag = f"xnat:{parts[-1]}"
        inner = "".join(_element(sub, tag=inner_tag) for sub in child["items"])
        for part in reversed(parts[:-1]):
            inner = f"<xnat:{part}>{inner}</xnat:{part}>"
        body.append(inner)
    return head + ">" + "".join(body) + f"</{tag}>"


def catalog_xml(resource: Resource) -> str:
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
