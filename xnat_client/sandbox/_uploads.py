"""
Where an upload's bytes come from (raw body, or multipart parts) and how archives unpack.

XNAT reads the raw body when `inbody=true` or the Content-Type is a supported upload type, and
multipart/form-data otherwise (RequestUtil.supported_upload_types, FileList.handlePost).
Relative paths are checked here: an upload can never name a path outside its resource.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from email.parser import BytesParser
from email.policy import HTTP

from xnat_client.sandbox._call import Call
from xnat_client.sandbox._errors import HttpError

_RAW_TYPES = frozenset(
    {
        "application/octet-stream",
        "application/zip",
        "application/x-zip-compressed",
        "application/x-gzip",
        "application/gzip",
        "application/x-tar",
        "application/dicom",
        "application/pdf",
        "application/json",
        "application/xml",
    }
)


def safe_path(path: str) -> str:
    """A relative path inside a resource; `..`, absolute paths and backslashes are refused."""
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        raise HttpError(400, f"Invalid file path: {path!r}")
    return path


def _raw(content_type: str) -> bool:
    return content_type in _RAW_TYPES or content_type.startswith(("text/", "image/"))


def incoming_files(call: Call, body: bytes) -> list[tuple[str, bytes]]:
    """(relative path, bytes) pairs the request uploads."""
    content_type = call.request.headers.get("content-type", "").split(";")[0].strip().lower()
    url_path = call.target.file
    if call.flag("inbody") or _raw(content_type):
        if not body:
            raise HttpError(400, "The upload body is empty.")
        if url_path is None:
            raise HttpError(400, "A raw upload needs a file name in the URL.")
        return [(safe_path(url_path), body)]
    if content_type == "multipart/form-data":
        parts = _multipart(call.request.headers["content-type"], body)
        if url_path is not None and len(parts) == 1:
            return [(safe_path(url_path), parts[0][1])]
        return [(safe_path(name), data) for name, data in parts]
    raise HttpError(
        400,
        f"You tried to PUT a payload of {len(body)} bytes without a supported Content-Type; "
        "try adding inbody=true or use multipart/form-data encoding.",
    )


def _multipart(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    found = []
    for part in message.iter_parts():
        name = part.get_filename()
        data = part.get_payload(decode=True)
        if name and isinstance(data, bytes):
            found.append((name, data))
    if not found:
        raise HttpError(400, "The multipart body holds no file.")
    return found


def unpack(name: str, data: bytes) -> list[tuple[str, bytes]]:
    """The members of an uploaded archive, keeping their relative paths; other files as is."""
    try:
        return _unpack(name, data)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise HttpError(400, f"Unable to extract {name}: {exc}") from exc


def _unpack(name: str, data: bytes) -> list[tuple[str, bytes]]:
    lowered = name.lower()
    if lowered.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [
                (safe_path(info.filename), archive.read(info))
                for info in archive.infolist()
                if not info.is_dir()
            ]
    if lowered.endswith((".tar", ".tar.gz", ".tgz")):
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            members = [m for m in archive.getmembers() if m.isfile()]
            return [(safe_path(m.name), _read(archive, m)) for m in members]
    return [(name, data)]


def _read(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    return handle.read() if handle is not None else b""
