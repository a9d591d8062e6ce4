"""A resource as one zip: members in XNAT's layout, and every way a zip can be wrong."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator

import httpx
import pytest

from xnat_client import BadResponse, FileEntry, ResourceRef
from xnat_client._zips import path_in_resource

from ._client_fakes import FakeXnat, client_for

pytestmark = pytest.mark.anyio

REF = ResourceRef.scan("E1", "1", "DICOM")
LAYOUT = "S1_MR1/scans/1-T1w/resources/DICOM/files/"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _serving(body: bytes) -> FakeXnat:
    def respond(request: httpx.Request) -> httpx.Response:
        assert request.url.path == REF.path + "/files"
        assert request.url.params["format"] == "zip"
        return httpx.Response(200, content=body, headers={"Content-Type": "application/zip"})

    return FakeXnat(respond)


async def _received(body: bytes) -> tuple[list[FileEntry], dict[str, bytes]]:
    got: dict[str, bytes] = {}

    async def receive(entry: FileEntry, chunks: AsyncIterator[bytes]) -> None:
        got[entry.name] = b"".join([c async for c in chunks])

    async with client_for(_serving(body)) as xnat:
        entries = await xnat.receive_zipped(REF, receive)
    return entries, got


async def test_members_are_named_by_their_path_in_the_resource() -> None:
    members = {f"{LAYOUT}1.dcm": b"one", f"{LAYOUT}sub/2.dcm": b"two" * 5000, f"{LAYOUT}sub/": b""}
    entries, got = await _received(_zip(members))
    assert [e.name for e in entries] == ["1.dcm", "sub/2.dcm"]
    assert got == {"1.dcm": b"one", "sub/2.dcm": b"two" * 5000}
    assert all(e.resource == "DICOM" for e in entries)


async def test_a_member_left_unread_is_skipped_and_the_next_still_arrives() -> None:
    received: list[str] = []

    async def first_only(entry: FileEntry, chunks: AsyncIterator[bytes]) -> None:
        received.append(entry.name)
        if entry.name == "b.dcm":
            assert b"".join([c async for c in chunks]) == b"B"

    body = _zip({f"{LAYOUT}a.dcm": b"A" * 100_000, f"{LAYOUT}b.dcm": b"B"})
    async with client_for(_serving(body)) as xnat:
        await xnat.receive_zipped(REF, first_only)
    assert received == ["a.dcm", "b.dcm"]


async def test_a_zip_cut_short_is_a_bad_response() -> None:
    body = _zip({f"{LAYOUT}a.dcm": bytes(range(256)) * 400, f"{LAYOUT}b.dcm": b"b" * 1000})
    with pytest.raises(BadResponse, match="damaged or cut short"):
        await _received(body[: len(body) // 2])


async def test_a_corrupted_member_is_a_bad_response() -> None:
    name = f"{LAYOUT}a.bin"
    body = bytearray(_zip({name: bytes(range(256)) * 200}))
    body[30 + len(name) + 20] ^= 0xFF  # in the deflated data: the inflate or the CRC catches it
    with pytest.raises(BadResponse, match="damaged"):
        await _received(bytes(body))


async def test_a_member_outside_the_layout_is_refused_not_guessed() -> None:
    with pytest.raises(BadResponse, match="is not under /resources/DICOM/files/"):
        await _received(_zip({"somewhere/else.dcm": b"x"}))


async def test_an_html_page_is_not_taken_for_a_zip() -> None:
    page = b"<html><body>Unable to find the specified resource.</body></html>"
    with pytest.raises(BadResponse):
        await _received(page)


def test_only_the_first_resource_marker_ends_the_prefix() -> None:
    name = "S/scans/1-T/resources/DICOM/files/a/resources/DICOM/files/b.dcm"
    assert path_in_resource(name, "DICOM") == "a/resources/DICOM/files/b.dcm"
    assert path_in_resource("S/scans/1-T/resources/DICOM/files/dir/", "DICOM") is None
