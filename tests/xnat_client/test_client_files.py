"""Resources and files against a scripted XNAT: streaming, verification, duplicates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from xnat_client import BadResponse, Conflict, ResourceRef, Unavailable

from ._client_fakes import FakeXnat, client_for, listing

pytestmark = pytest.mark.anyio

REF = ResourceRef.assessor_output("E1", "A1", "OUT")


class FileStore:
    """Just enough of XNAT's file endpoints: PUT stores, GET lists or returns bytes."""

    def __init__(self, reported_size: int | None = None) -> None:
        self.files: dict[str, bytes] = {}
        self.reported_size = reported_size
        self.put_params: list[dict[str, str]] = []

    def respond(self, request: httpx.Request) -> httpx.Response:
        prefix = REF.path + "/files"
        path = request.url.raw_path.decode().split("?")[0]
        name = path.removeprefix(prefix + "/")
        if request.method == "PUT":
            self.put_params.append(dict(request.url.params))
            if name in self.files and request.url.params.get("overwrite") != "true":
                return httpx.Response(200, text=f'{{"duplicates":["{name}"]}}')
            self.files[name] = request.content
            return httpx.Response(200)
        if path == prefix:
            return listing([self._row(n, b) for n, b in self.files.items()])
        if name in self.files:
            return httpx.Response(200, content=self.files[name])
        return httpx.Response(404, text="<h3>Unable to find file.</h3>")

    def _row(self, name: str, body: bytes) -> dict[str, str]:
        size = self.reported_size if self.reported_size is not None else len(body)
        uri = f"/data/experiments/E1/assessors/A1/out/resources/7/files/{name}"
        return {"Name": name.rsplit("/", 1)[-1], "Size": str(size), "URI": uri, "collection": "OUT"}


async def chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_upload_from_path_then_download_roundtrip(tmp_path: Path) -> None:
    """A file uploaded from a Path is listed with its size and downloads byte for byte."""
    store = FileStore()
    source = tmp_path / "report.pdf"
    source.write_bytes(bytes(range(256)) * 9000)
    received = bytearray()

    async def sink(chunk: bytes) -> None:
        received.extend(chunk)

    async with client_for(FakeXnat(store.respond)) as xnat:
        entry = await xnat.upload_file(REF, "report.pdf", source)
        size = await xnat.download_file(REF, "report.pdf", sink)
    assert (entry.name, entry.size, entry.resource) == ("report.pdf", source.stat().st_size, "OUT")
    assert size == source.stat().st_size
    assert bytes(received) == source.read_bytes()
    assert store.put_params[0] == {"inbody": "true"}


async def test_upload_from_async_iterator_into_a_subfolder() -> None:
    """An async byte iterator is streamed as the body; folders in the path are kept."""
    store = FileStore()
    data = b"abc" * 10_000
    async with client_for(FakeXnat(store.respond)) as xnat:
        entry = await xnat.upload_file(REF, "sub dir/ü+x.txt", chunks(data))
    assert store.files["sub%20dir/%C3%BC%2Bx.txt"] == data
    assert (entry.name, entry.size) == ("sub dir/ü+x.txt", len(data))


async def test_duplicate_without_overwrite_is_conflict_and_overwrite_replaces() -> None:
    """XNAT's 200 {"duplicates": [...]} is a Conflict; overwrite=True replaces the file."""
    store = FileStore()
    async with client_for(FakeXnat(store.respond)) as xnat:
        await xnat.upload_file(REF, "a.txt", b"first")
        with pytest.raises(Conflict, match="overwrite=True"):
            await xnat.upload_file(REF, "a.txt", b"second")
        assert store.files["a.txt"] == b"first"
        entry = await xnat.upload_file(REF, "a.txt", b"second!", overwrite=True)
    assert store.files["a.txt"] == b"second!"
    assert entry.size == 7


async def test_size_disagreement_is_bad_response() -> None:
    """If the listing reports another size than was sent, the upload is not trusted."""
    store = FileStore(reported_size=1)
    async with client_for(FakeXnat(store.respond)) as xnat:
        with pytest.raises(BadResponse, match="1 bytes, 5 were sent"):
            await xnat.upload_file(REF, "a.txt", b"12345")


async def test_path_upload_is_retried_but_iterator_upload_is_not(tmp_path: Path) -> None:
    """A 503 on a Path upload re-reads the file and retries; a one-shot stream is not resent."""
    store = FileStore()
    failures = iter([httpx.Response(503), httpx.Response(503)])

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            failure = next(failures, None)
            if failure is not None:
                return failure
        return store.respond(request)

    source = tmp_path / "x.bin"
    source.write_bytes(b"z" * 3000)
    fake = FakeXnat(flaky)
    async with client_for(fake) as xnat:
        with pytest.raises(Unavailable):
            await xnat.upload_file(REF, "once.bin", chunks(b"y" * 10))
        entry = await xnat.upload_file(REF, "x.bin", source)
    assert entry.size == 3000
    assert "once.bin" not in store.files
    assert [r.method for r in fake.data_requests()] == ["PUT", "PUT", "PUT", "GET"]


async def test_download_into_an_anyio_byte_stream(tmp_path: Path) -> None:
    """A download can go into an anyio ByteSendStream (here a file stream)."""
    from anyio.streams.file import FileWriteStream

    store = FileStore()
    store.files["big.bin"] = b"q" * 300_000
    dest = tmp_path / "big.bin"
    async with client_for(FakeXnat(store.respond)) as xnat:
        async with await FileWriteStream.from_path(dest) as stream:
            size = await xnat.download_file(REF, "big.bin", stream)
        copied = await xnat.download_to_path(REF, "big.bin", tmp_path / "copy.bin")
    assert size == copied == 300_000
    assert dest.read_bytes() == store.files["big.bin"]
    assert (tmp_path / "copy.bin").read_bytes() == store.files["big.bin"]
    assert not (tmp_path / "copy.bin.part").exists()


async def test_missing_file_download_is_not_found_and_writes_nothing(tmp_path: Path) -> None:
    """Downloading a missing file raises NotFound before the sink sees a byte."""
    from xnat_client import NotFound

    written: list[bytes] = []

    async def sink(chunk: bytes) -> None:
        written.append(chunk)

    async with client_for(FakeXnat(FileStore().respond)) as xnat:
        with pytest.raises(NotFound, match="Unable to find file"):
            await xnat.download_file(REF, "nope.txt", sink)
        with pytest.raises(NotFound):
            await xnat.download_to_path(REF, "nope.txt", tmp_path / "nope.txt")
    assert written == []
    assert [p async for p in anyio.Path(tmp_path).iterdir()] == []


async def test_create_resource_conflict_and_exist_ok() -> None:
    """An existing resource is a Conflict unless exist_ok=True."""
    fake = FakeXnat(
        lambda _r: httpx.Response(409, text="<h3>Specified resource already exists.</h3>")
    )
    async with client_for(fake) as xnat:
        with pytest.raises(Conflict):
            await xnat.create_resource(REF, format="PDF")
        await xnat.create_resource(REF, exist_ok=True)
    assert fake.data_requests()[0].url.params["format"] == "PDF"


async def test_upload_zip_asks_xnat_to_extract(tmp_path: Path) -> None:
    """upload_zip sends `extract=true` with a .zip name and returns the resulting listing."""
    store = FileStore()
    async with client_for(FakeXnat(store.respond)) as xnat:
        entries = await xnat.upload_zip(REF, b"PK\x03\x04fake", name="bundle.zip")
    assert store.put_params == [{"inbody": "true", "extract": "true"}]
    assert [e.name for e in entries] == ["bundle.zip"]
