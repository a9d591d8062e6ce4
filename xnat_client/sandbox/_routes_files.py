"""
Resources (folders) and their files: list, create, upload, download, zip, delete.

Shapes and codes follow CatalogResourceList, CatalogResource and FileList (xnat-rest.md 2.3, 5):
fixed resource columns, file rows whose URI holds `/resources/<id>/files/<path>`, auto-created
resources on upload, `{"duplicates": [...]}` with a 200 when a file exists and `overwrite` is not
set, and `extract=true` unpacking an uploaded archive.
"""

from __future__ import annotations

import io
import json
import mimetypes
import zipfile
from urllib.parse import quote

from starlette.responses import Response

from xnat_client.sandbox import _resolve
from xnat_client.sandbox._call import Call
from xnat_client.sandbox._errors import HttpError
from xnat_client.sandbox._items import catalog_xml
from xnat_client.sandbox._listing import Row, render
from xnat_client.sandbox._store import (
    Resources,
    StoredAssessor,
    StoredResource,
    StoredScan,
    StoredSession,
    timestamp,
)
from xnat_client.sandbox._uploads import incoming_files, unpack

RESOURCE_COLUMNS = [
    "xnat_abstractresource_id",
    "label",
    "element_name",
    "category",
    "cat_id",
    "cat_desc",
    "file_count",
    "file_size",
    "tags",
    "content",
    "format",
]
FILE_COLUMNS = [
    "Name",
    "Size",
    "URI",
    "collection",
    "file_tags",
    "file_format",
    "file_content",
    "cat_ID",
    "digest",
]


def _category(owner: object) -> tuple[str, str, str]:
    if isinstance(owner, StoredScan):
        return "scans", owner.id, owner.type
    if isinstance(owner, StoredAssessor):
        return "assessors", owner.id, owner.label
    return "resources", "", ""


async def list_resources(call: Call) -> Response:
    rows = [
        _resource_row(owner, r)
        for owner, folders in _resolve.owners(call.store, call.target)
        for r in folders.values()
    ]
    return render(rows, RESOURCE_COLUMNS, call.fmt, {"title": "Resources"})


def _resource_row(owner: object, r: StoredResource) -> Row:
    category, cat_id, cat_desc = _category(owner)
    return {
        "xnat_abstractresource_id": r.id,
        "label": r.label,
        "element_name": "xnat:resourceCatalog",
        "category": category,
        "cat_id": cat_id,
        "cat_desc": cat_desc,
        "file_count": str(len(r.files)),
        "file_size": str(r.file_size),
        "tags": "",
        "content": r.content,
        "format": r.format,
    }


def _base_uri(call: Call, owner: object) -> str:
    """The owner's URI as the request spelled it, with IDs in place of labels."""
    store, t = call.store, call.target
    if t.experiment is None:
        project = _resolve.project(store, t).id
        if t.subject is None:
            return f"/data/projects/{project}"
        return f"/data/projects/{project}/subjects/{_resolve.subject(store, t).id}"
    experiment = _resolve.experiment(store, t)
    base = f"/data/experiments/{experiment.id}"
    if t.project is not None and t.subject is not None:
        subject = _resolve.subject(store, t).id
        base = f"/data/projects/{t.project}/subjects/{subject}/experiments/{experiment.id}"
    if isinstance(owner, StoredScan):
        return f"{base}/scans/{owner.id}"
    if t.assessor is not None:
        base = f"{base}/assessors/{_resolve.assessor(store, t).id}"
        return f"{base}/{t.io}" if t.io else base
    return base


def _selected(call: Call, folders: Resources) -> list[StoredResource]:
    key = call.target.resource
    if key is None:
        return list(folders.values())
    found = _resolve.resource_in(folders, key)
    if found is None:
        raise HttpError(404, "Unable to find the specified resource.")
    return [found]


def _chosen(call: Call) -> list[tuple[object, StoredResource]]:
    """Every (owner, resource) a files URL names; a missing resource is a 404 only when the URL
    names one owner (a scan list keeps the scans that have it)."""
    found = _resolve.owners(call.store, call.target)
    key = call.target.resource
    if key is None:
        return [(owner, r) for owner, folders in found for r in folders.values()]
    chosen = [(owner, r) for owner, folders in found if (r := _resolve.resource_in(folders, key))]
    if not chosen:
        raise HttpError(404, "Unable to find the specified resource.")
    return chosen


async def list_files(call: Call) -> Response:
    chosen = _chosen(call)
    if call.fmt in ("zip", "tar", "tar.gz"):
        return _zip(call, chosen)
    rows: list[Row] = [
        {
            "Name": path.rsplit("/", 1)[-1],
            "Size": str(len(data)),
            "URI": f"{_base_uri(call, owner)}/resources/{r.id}/files/{path}",
            "collection": r.label,
            "file_tags": "",
            "file_format": r.format,
            "file_content": r.content,
            "cat_ID": r.id,
            "digest": "",
        }
        for owner, r in chosen
        for path, data in r.files.items()
    ]
    extra = {"Columns": [{"key": "URI", "serverRoot": ""}], "title": "Files"}
    return render(rows, FILE_COLUMNS, call.fmt, extra, total=False)


class _Streamed(io.RawIOBase):
    """
    Where a zip is written as XNAT writes one, to a stream it cannot seek back in (Java's
    ZipOutputStream): each member's sizes and CRC follow its data (a data descriptor), so a
    reader must find them as it goes, as a streaming unzip does with XNAT's own.
    """

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        chunk = bytes(data)
        self.parts.append(chunk)
        return len(chunk)


def _zip(call: Call, chosen: list[tuple[object, StoredResource]]) -> Response:
    """
    The files as one zip. `structure=simplified` (what DAX jobs ask for) is XNAT's full layout
    without its `resources/` and `files/` levels, an assessor's files under its own label
    (`<assessor>/out/<RESOURCE>/<path>`); derived from XNAT's code (FileList), not observed.
    """
    buffer = _Streamed()
    name = "archive"
    simple = call.params.get("structure", "").lower() == "simplified"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for owner, r in chosen:
            prefix = _simplified_prefix(call, owner) if simple else _zip_prefix(call, owner)
            name = prefix.split("/", 1)[0]
            middle = f"/{r.label}/" if simple else f"/resources/{r.label}/files/"
            for path, data in r.files.items():
                archive.writestr(f"{prefix}{middle}{path}", data)
    return Response(
        b"".join(buffer.parts),
        media_type="application/zip",
        headers={"Content-Disposition": _attachment(f"{name}.zip")},
    )


def _attachment(filename: str) -> str:
    """
    Content-Disposition for a download named after a label, which may be any text: an ASCII
    stand-in, and the name itself in RFC 6266's `filename*` (a header is Latin-1 on the wire).
    """
    kept = (c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    plain = "".join(kept)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _zip_prefix(call: Call, owner: object) -> str:
    """RestFileUtils' default layout: session label, then `scans/{ID}-{type}` and so on."""
    t = call.target
    if t.experiment is None:
        return getattr(owner, "label", "") or getattr(owner, "id", "archive")
    experiment = _resolve.experiment(call.store, t)
    if isinstance(owner, StoredScan):
        kind = "".join(c if c.isalnum() else "_" for c in owner.type)
        return f"{experiment.label}/scans/{owner.id}-{kind}"
    if isinstance(owner, StoredAssessor):
        io_part = f"/{t.io}" if t.io else ""
        return f"{experiment.label}/assessors/{owner.label}{io_part}"
    return experiment.label


def _simplified_prefix(call: Call, owner: object) -> str:
    """`structure=simplified`: a scan under `<session>/scans/<ID>`, an assessor under its label."""
    t = call.target
    if isinstance(owner, StoredAssessor):
        return f"{owner.label}/{t.io}" if t.io else owner.label
    if isinstance(owner, StoredScan) and t.experiment is not None:
        return f"{_resolve.experiment(call.store, t).label}/scans/{owner.id}"
    return _zip_prefix(call, owner)


async def get_resource(call: Call) -> Response:
    _, folders = _resolve.owner(call.store, call.target)
    found = _selected(call, folders)[0]
    return Response(catalog_xml(found), media_type="text/xml")


async def put_resource(call: Call) -> Response:
    owner, folders = _resolve.owner(call.store, call.target)
    label = call.target.resource or ""
    if _resolve.resource_in(folders, label) is not None:
        raise HttpError(409, "Specified resource already exists.")
    call.store.add_resource(
        folders, label, call.params.get("format", ""), call.params.get("content", "")
    )
    _touch(call, owner)
    return Response("", status_code=200, media_type="text/plain")


async def delete_resource(call: Call) -> Response:
    owner, folders = _resolve.owner(call.store, call.target)
    found = _selected(call, folders)[0]
    del folders[found.label]
    _touch(call, owner)
    return Response("", status_code=200, media_type="text/plain")


def _touch(call: Call, owner: object) -> None:
    """A change below a session or assessor updates its last_modified."""
    if isinstance(owner, StoredSession | StoredAssessor):
        owner.last_modified = timestamp()
    elif call.target.experiment is not None:
        _resolve.experiment(call.store, call.target).last_modified = timestamp()


async def upload(call: Call) -> Response:
    owner, folders = _resolve.owner(call.store, call.target)
    key = call.target.resource
    if key is None:
        raise HttpError(400, "Uploads need a resource: .../resources/{label}/files/{path}")
    body = await call.request.body()
    incoming = incoming_files(call, body)
    if call.flag("extract"):
        incoming = [item for name, data in incoming for item in unpack(name, data)]
    resource = _resolve.resource_in(folders, key)
    if resource is None:
        fmt = call.params.get("format", "")
        resource = call.store.add_resource(folders, key, "" if fmt == "U" else fmt)
    overwrite = call.flag("overwrite")
    duplicates = [path for path, _ in incoming if path in resource.files and not overwrite]
    for path, data in incoming:
        if path not in duplicates:
            resource.files[path] = data
    resource.changed()
    _touch(call, owner)
    if duplicates:
        body_text = json.dumps({"duplicates": duplicates}, separators=(",", ":"))
        return Response(body_text, status_code=200, media_type="text/html")
    return Response("", status_code=200, media_type="text/plain")


async def download(call: Call) -> Response:
    path = call.target.file or ""
    for _, resource in _chosen(call):
        data = resource.files.get(path)
        if data is not None:
            media = mimetypes.guess_type(path)[0] or "application/octet-stream"
            headers = {"Cache-Control": "must-revalidate"}
            return Response(data, media_type=media, headers=headers)
    raise HttpError(404, "Unable to find file.")


async def delete_file(call: Call) -> Response:
    owner, folders = _resolve.owner(call.store, call.target)
    path = call.target.file or ""
    removed = 0
    for resource in _selected(call, folders):
        doomed = [p for p in resource.files if p == path or p.startswith(path.rstrip("/") + "/")]
        for p in doomed:
            del resource.files[p]
        resource.changed()
        removed += len(doomed)
    if not removed:
        raise HttpError(404, "No matched files")
    _touch(call, owner)
    return Response("", status_code=200, media_type="text/plain")
