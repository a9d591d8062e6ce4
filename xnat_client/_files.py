"""
Resources and files: create, upload (streamed), list, download (streamed).

Uploads never hold a whole file in memory: a `Path` is read in chunks (and can be re-read for a
retry), an async byte iterator is sent as it comes (and so is never retried). After an upload
the file listing is read back and the size XNAT reports must equal the bytes sent. XNAT answers
a duplicate upload without `overwrite` with 200 and `{"duplicates": [...]}` and keeps the old
file; that is reported as `Conflict`, not as success.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import httpx
from anyio.abc import ByteSendStream

from . import _rows
from ._exceptions import BadResponse, Conflict, NotFound
from ._http import Body, Content, HttpCore
from ._models import FileEntry
from ._paths import ResourceRef, segment
from ._responses import body_text, looks_like_html

CHUNK = 1 << 20
UploadSource = Path | bytes | AsyncIterable[bytes]
Sink = Callable[[bytes], Awaitable[object]] | ByteSendStream


class _Meter:
    """Bytes handed to the transport by the latest attempt."""

    def __init__(self) -> None:
        self.count = 0

    async def wrap(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        self.count = 0
        async for chunk in chunks:
            self.count += len(chunk)
            yield chunk


async def _read_file(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as handle:
        while chunk := await handle.read(CHUNK):
            yield chunk


def _body(source: UploadSource, meter: _Meter) -> Body:
    if isinstance(source, bytes):
        meter.count = len(source)
        return Body.of(source)
    if isinstance(source, Path):
        length = source.stat().st_size

        def reread() -> Content:
            return meter.wrap(_read_file(source))

        return Body(reread, replayable=True, length=length)
    used = False

    def once() -> Content:
        nonlocal used
        if used:
            raise RuntimeError("an async byte iterator can be sent only once")
        used = True
        return meter.wrap(source)

    return Body(once, replayable=False)


def _check_upload_answer(core: HttpCore, path: str, response: httpx.Response) -> None:
    text = body_text(response).strip()
    if not text:
        return
    if looks_like_html(text):
        core.check_text("PUT", path, response)  # raises BadResponse
    try:
        answer = json.loads(text)
    except ValueError:
        return  # a plain-text acknowledgement
    if isinstance(answer, dict) and answer.get("duplicates"):
        names = ", ".join(str(d) for d in answer["duplicates"])[:150]
        raise Conflict(
            f"XNAT kept the existing file(s) {names}; pass overwrite=True to replace",
            method="PUT",
            path=path,
            status=response.status_code,
        )


async def create_resource(
    core: HttpCore, ref: ResourceRef, *, format: str = "", exist_ok: bool = False
) -> None:
    """Create an empty resource; `format` is XNAT's file-format label (e.g. NIFTI)."""
    params = {"format": format} if format else None
    try:
        await core.request("PUT", ref.path, params=params)
    except Conflict:
        if not exist_ok:
            raise


async def delete_resource(core: HttpCore, ref: ResourceRef) -> None:
    """Delete a resource and its files; a resource that does not exist is not an error."""
    try:
        await core.request("DELETE", ref.path, params={"removeFiles": "true"})
    except NotFound:
        return


async def list_files(core: HttpCore, ref: ResourceRef) -> list[FileEntry]:
    path = f"{ref.path}/files"
    payload = await core.get_json(path)
    try:
        return _rows.files(_rows.result_rows(payload))
    except ValueError as exc:
        raise BadResponse(str(exc), method="GET", path=path, status=200) from None


async def list_output_files(core: HttpCore, session_id: str, assessor_id: str) -> list[FileEntry]:
    """
    Every file of every output resource of an assessor, in one listing (`out/files`); of a
    subject assessor (`session_id=""`, an experiment of its own), its `files`.
    """
    if session_id:
        path = f"/data/experiments/{segment(session_id)}/assessors/{segment(assessor_id)}/out/files"
    else:
        path = f"/data/experiments/{segment(assessor_id)}/files"
    payload = await core.get_json(path)
    try:
        return _rows.files(_rows.result_rows(payload))
    except ValueError as exc:
        raise BadResponse(str(exc), method="GET", path=path, status=200) from None


async def upload_file(
    core: HttpCore,
    ref: ResourceRef,
    path: str,
    source: UploadSource,
    *,
    overwrite: bool = False,
    verify: bool = True,
) -> FileEntry:
    """Upload one file to `path` inside the resource (created if needed); returns its entry."""
    url = ref.file(path)
    meter = _Meter()
    params = {"inbody": "true", **({"overwrite": "true"} if overwrite else {})}
    headers = {"Content-Type": "application/octet-stream"}
    body = _body(source, meter)
    response = await core.request("PUT", url, params=params, body=body, headers=headers)
    _check_upload_answer(core, url, response)
    if not verify:
        return FileEntry(name=path, size=meter.count, uri=url, resource=ref.label)
    entry = next((e for e in await list_files(core, ref) if e.name == path), None)
    if entry is None:
        raise BadResponse("the uploaded file is missing from the listing", method="PUT", path=url)
    if entry.size != meter.count:
        raise BadResponse(
            f"XNAT reports {entry.size} bytes, {meter.count} were sent", method="PUT", path=url
        )
    return entry


async def upload_zip(
    core: HttpCore,
    ref: ResourceRef,
    source: UploadSource,
    *,
    name: str = "upload.zip",
    extract: bool = True,
    overwrite: bool = False,
    verify: bool = True,
) -> list[FileEntry]:
    """
    Upload a zip; with `extract` XNAT unpacks it into the resource. Returns the resource's
    listing (one request more), or nothing with `verify=False` (the caller lists once for all).
    """
    if not name.lower().endswith(".zip"):
        raise ValueError(f"zip upload name must end in .zip, got {name!r}")
    url = ref.file(name)
    params = {"inbody": "true"}
    if extract:
        params["extract"] = "true"
    if overwrite:
        params["overwrite"] = "true"
    headers = {"Content-Type": "application/zip"}
    response = await core.request(
        "PUT", url, params=params, body=_body(source, _Meter()), headers=headers
    )
    _check_upload_answer(core, url, response)
    return await list_files(core, ref) if verify else []


def _writer(sink: Sink) -> Callable[[bytes], Awaitable[object]]:
    if isinstance(sink, ByteSendStream):
        return sink.send
    return sink


async def download_file(core: HttpCore, ref: ResourceRef, path: str, sink: Sink) -> int:
    """Stream one file into `sink` chunk by chunk (constant memory); returns the byte count."""
    write = _writer(sink)
    total = 0
    html = path.lower().endswith((".html", ".htm"))
    async with core.stream(ref.file(path), html_expected=html) as chunks:
        async for chunk in chunks:
            await write(chunk)
            total += len(chunk)
    return total


async def download_to_path(core: HttpCore, ref: ResourceRef, path: str, dest: Path) -> int:
    """Stream one file to a local path, written whole or not at all (via a temporary name)."""
    partial = anyio.Path(dest.with_name(dest.name + ".part"))
    try:
        async with await anyio.open_file(partial, "wb") as handle:
            total = await download_file(core, ref, path, handle.write)
    except BaseException:
        await partial.unlink(missing_ok=True)
        raise
    await partial.replace(dest)
    return total
