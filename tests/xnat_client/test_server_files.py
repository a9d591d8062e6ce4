"""Resources and files: create, upload, duplicates, overwrite, download, zip, extract, delete."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator

import httpx
import pytest

from xnat_client.sandbox import StoredSession, XnatServer, generate_project

pytestmark = pytest.mark.anyio


@pytest.fixture
def server() -> XnatServer:
    server = XnatServer()
    generate_project(server, "P1", sessions=1, seed=1)
    return server


@pytest.fixture
def session(server: XnatServer) -> StoredSession:
    return next(server.store.sessions_of("P1"))


@pytest.fixture
async def client(server: XnatServer) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://xnat", auth=("admin", "admin")
    ) as c:
        yield c


async def test_resource_put_then_conflict(
    client: httpx.AsyncClient, session: StoredSession
) -> None:
    """PUT of a new resource answers 200; the same label again answers 409."""
    url = f"/data/experiments/{session.id}/scans/1/resources/EXTRA?format=TXT"
    first, second = await client.put(url), await client.put(url)
    assert (first.status_code, second.status_code) == (200, 409)
    assert session.scans["1"].resources["EXTRA"].format == "TXT"


async def test_upload_auto_creates_and_duplicates_are_not_replaced(
    client: httpx.AsyncClient, session: StoredSession
) -> None:
    """Upload creates the resource; a duplicate answers {"duplicates": [...]}, old bytes kept."""
    url = f"/data/experiments/{session.id}/scans/1/resources/OUT/files/sub/a.txt?inbody=true"
    headers = {"Content-Type": "application/octet-stream"}
    first = await client.put(url, content=b"one", headers=headers)
    second = await client.put(url, content=b"two", headers=headers)
    assert (first.status_code, first.text) == (200, "")
    assert second.status_code == 200
    assert second.json() == {"duplicates": ["sub/a.txt"]}
    assert second.headers["content-type"].startswith("text/html")
    assert session.scans["1"].resources["OUT"].files == {"sub/a.txt": b"one"}


async def test_overwrite_replaces(client: httpx.AsyncClient, session: StoredSession) -> None:
    """overwrite=true replaces an existing file."""
    url = f"/data/experiments/{session.id}/resources/R/files/a.txt"
    await client.put(f"{url}?inbody=true", content=b"one")
    replaced = await client.put(f"{url}?inbody=true&overwrite=true", content=b"two")
    assert (replaced.status_code, replaced.text) == (200, "")
    assert (await client.get(url)).content == b"two"


async def test_upload_without_content_type_or_inbody_is_400(
    client: httpx.AsyncClient, session: StoredSession
) -> None:
    """A raw body with neither a supported Content-Type nor inbody=true is refused."""
    url = f"/data/experiments/{session.id}/resources/R/files/a.txt"
    response = await client.put(url, content=b"x", headers={"Content-Type": ""})
    assert response.status_code == 400
    assert "inbody=true" in response.text


async def test_multipart_upload(client: httpx.AsyncClient, session: StoredSession) -> None:
    """A multipart part is stored under the URL path when one is given."""
    url = f"/data/experiments/{session.id}/resources/M/files/named.bin"
    response = await client.post(url, files={"file": ("ignored.bin", b"\x00\x01")})
    assert response.status_code == 200
    assert session.resources["M"].files == {"named.bin": b"\x00\x01"}


async def test_file_listing_and_download(client: httpx.AsyncClient, session: StoredSession) -> None:
    """The file listing's URI holds /resources/<id>/files/<path>, and that URI downloads."""
    base = f"/data/experiments/{session.id}/scans/1/resources/NIFTI/files"
    result_set = (await client.get(f"{base}?format=json")).json()["ResultSet"]
    row = result_set["Result"][0]
    resource = session.scans["1"].resources["NIFTI"]
    assert row["URI"].endswith(f"/resources/{resource.id}/files/T1w.nii.gz")
    assert (row["collection"], row["cat_ID"]) == ("NIFTI", resource.id)
    assert "totalRecords" not in result_set
    assert result_set["Columns"] == [{"key": "URI", "serverRoot": ""}]
    download = await client.get(row["URI"])
    assert download.content == resource.files["T1w.nii.gz"]


async def test_missing_file_is_404(client: httpx.AsyncClient, session: StoredSession) -> None:
    """Downloading a file that is not there answers 404."""
    url = f"/data/experiments/{session.id}/scans/1/resources/NIFTI/files/nope.nii"
    assert (await client.get(url)).status_code == 404


async def test_zip_download_and_extracting_upload(
    client: httpx.AsyncClient, session: StoredSession
) -> None:
    """?format=zip packs a resource; uploading a zip with extract=true unpacks its members."""
    source = f"/data/experiments/{session.id}/scans/1/resources/DICOM/files?format=zip"
    packed = await client.get(source)
    names = zipfile.ZipFile(io.BytesIO(packed.content)).namelist()
    assert sorted(n.rsplit("/", 1)[-1] for n in names) == ["1.dcm", "2.dcm"]
    assert all("/resources/DICOM/files/" in n for n in names)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("d/x.txt", b"x")
        archive.writestr("y.txt", b"y")
    url = f"/data/experiments/{session.id}/resources/Z/files/up.zip?extract=true"
    response = await client.put(
        url, content=buffer.getvalue(), headers={"Content-Type": "application/zip"}
    )
    assert response.status_code == 200
    assert session.resources["Z"].files == {"d/x.txt": b"x", "y.txt": b"y"}


async def test_a_zip_is_streamed_as_xnat_writes_it_and_named_for_any_label(
    client: httpx.AsyncClient, session: StoredSession
) -> None:
    """Sizes after each member (a data descriptor, as Java's ZipOutputStream writes them), and
    a session label beyond Latin-1 in the download's name (RFC 6266 `filename*`)."""
    session.label = 'sess "ünïcödé" ✓'
    source = f"/data/experiments/{session.id}/scans/1/resources/DICOM/files?format=zip"
    packed = await client.get(source)
    assert packed.status_code == 200
    members = zipfile.ZipFile(io.BytesIO(packed.content)).infolist()
    assert members
    assert all(m.flag_bits & 0x08 for m in members)
    assert all(m.filename.startswith(session.label + "/scans/1-") for m in members)
    disposition = packed.headers["Content-Disposition"]
    assert 'filename="sess __n_c_d__ _.zip"' in disposition
    utf8 = "sess%20%22%C3%BCn%C3%AFc%C3%B6d%C3%A9%22%20%E2%9C%93.zip"
    assert f"filename*=UTF-8''{utf8}" in disposition


async def test_simplified_zip_is_the_layout_dax_jobs_unpack(
    server: XnatServer, client: httpx.AsyncClient, session: StoredSession
) -> None:
    """`structure=simplified` drops /resources and /files: a scan's files under
    `<session>/scans/<ID>/<RES>/`, an assessor's under `<assessor>/out/<RES>/`."""
    scan = f"/data/experiments/{session.id}/scans/1/resources/DICOM/files"
    packed = await client.get(scan, params={"format": "zip", "structure": "simplified"})
    names = zipfile.ZipFile(io.BytesIO(packed.content)).namelist()
    assert sorted(names) == [f"{session.label}/scans/1/DICOM/{n}" for n in ("1.dcm", "2.dcm")]
    store = server.store
    assessor = store.add_assessor(session, "A-x-fs", proctype="fs_v1")
    store.add_resource(assessor.out, "SUBJ", files={"mri/orig.mgz": b"m", "stats.txt": b"s"})
    url = f"/data/experiments/{session.id}/assessors/{assessor.id}/out/resources/SUBJ/files"
    packed = await client.get(url, params={"format": "zip", "structure": "simplified"})
    names = zipfile.ZipFile(io.BytesIO(packed.content)).namelist()
    assert sorted(names) == ["A-x-fs/out/SUBJ/mri/orig.mgz", "A-x-fs/out/SUBJ/stats.txt"]


async def test_unsafe_paths_are_refused(client: httpx.AsyncClient, session: StoredSession) -> None:
    """A zip member or URL path that climbs out of the resource is a 400, nothing stored."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../evil.txt", b"x")
    url = f"/data/experiments/{session.id}/resources/Z/files/up.zip?extract=true&inbody=true"
    response = await client.put(url, content=buffer.getvalue())
    assert response.status_code == 400
    assert "Z" not in session.resources


async def test_delete_file_and_resource(client: httpx.AsyncClient, session: StoredSession) -> None:
    """DELETE of a file, then of its resource, answers 200; the file is then 404."""
    base = f"/data/experiments/{session.id}/scans/1/resources/DICOM"
    deleted = await client.delete(f"{base}/files/1.dcm")
    gone = await client.get(f"{base}/files/1.dcm")
    dropped = await client.delete(base)
    assert (deleted.status_code, gone.status_code, dropped.status_code) == (200, 404, 200)
    assert "DICOM" not in session.scans["1"].resources


async def test_assessor_output_resources(client: httpx.AsyncClient, session: StoredSession) -> None:
    """Files uploaded below .../assessors/{id}/out/resources land in the assessor's outputs."""
    assessor = next(iter(session.assessors.values()))
    url = f"/data/experiments/{session.id}/assessors/{assessor.id}/out/resources/LOG/files/l.txt"
    response = await client.put(f"{url}?inbody=true", content=b"log")
    listing = await client.get(
        f"/data/experiments/{session.id}/assessors/{assessor.id}/out/resources?format=json"
    )
    assert response.status_code == 200
    assert assessor.out["LOG"].files == {"l.txt": b"log"}
    assert "LOG" in {r["label"] for r in listing.json()["ResultSet"]["Result"]}
