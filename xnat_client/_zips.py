"""
A resource's files as one zip download, unpacked as it streams.

Why: listing a resource and then fetching each file costs one request per file plus one;
XNAT's `files?format=zip` sends the whole resource in one answer (a DICOM series of 200
files: 1 request instead of 201). The zip is never held whole, in memory or on disk:
`stream_unzip` inflates it as the bytes arrive and checks every member's CRC-32 and sizes,
and a zip cut short fails (its members are followed by a central directory it must reach).

XNAT names each member by its default layout,
`<session label>/scans/<ID>-<type>/resources/<label>/files/<path>` (an assessor's
`.../assessors/<label>/out/resources/<label>/files/<path>`); the path inside the resource is
what follows the first `/resources/<label>/files/`. A member without it is refused, never
guessed at.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote

from stream_unzip import UnzipError, async_stream_unzip

from ._exceptions import BadResponse
from ._http import HttpCore
from ._models import FileEntry
from ._paths import ResourceRef

#: Called for each file with its entry and its bytes; what it does not read is skipped.
Receiver = Callable[[FileEntry, AsyncIterator[bytes]], Awaitable[None]]


def _decoded(raw: bytes) -> str:
    """A member's name: UTF-8 (what XNAT writes), else the zip format's own CP437."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp437")


def path_in_resource(member: str, label: str) -> str | None:
    """The path inside the resource of a member of XNAT's zip; None for a folder entry."""
    marker = f"/resources/{label}/files/"
    at = member.find(marker)
    if at < 0:
        raise ValueError(f"zip member {member!r} is not under {marker}")
    path = member[at + len(marker) :]
    return None if path == "" or path.endswith("/") else path


async def _drained(chunks: AsyncIterator[bytes]) -> None:
    async for _ in chunks:
        pass


async def receive_zipped(core: HttpCore, ref: ResourceRef, receive: Receiver) -> list[FileEntry]:
    """
    Download the resource as one zip and hand each file to `receive` as it is unpacked;
    returns the files in the zip's order. An entry's `size` is the member's uncompressed
    size as its header states it (None when the header leaves it to the end).

    Raises:
        BadResponse: the zip is damaged, cut short, or not in XNAT's layout.
    """
    path = f"{ref.path}/files"
    entries: list[FileEntry] = []
    async with core.stream(path, {"format": "zip"}) as chunks:
        try:
            async for raw, size, member in async_stream_unzip(chunks):
                try:
                    inside = path_in_resource(_decoded(raw), ref.label)
                except ValueError as exc:
                    raise BadResponse(str(exc), method="GET", path=path, status=200) from None
                if inside is None:
                    await _drained(member)
                    continue
                uri = f"{path}/{quote(inside)}"  # as named: the caller judges whether it is safe
                entry = FileEntry(name=inside, size=size, uri=uri, resource=ref.label)
                entries.append(entry)
                await receive(entry, member)
                await _drained(member)  # a member must be read to its end before the next
        except UnzipError as exc:
            reason = f"the zip XNAT sent is damaged or cut short ({type(exc).__name__})"
            raise BadResponse(reason, method="GET", path=path, status=200) from None
    return entries
