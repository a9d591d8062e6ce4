"""
A resource staged from one zip download: every file where DAX would put it, byte for byte, in
one request; a zip that disagrees with the snapshot, or names a file unsafely, is told apart.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePosixPath

import anyio
import httpx
import pytest
from starlette.types import Receive, Scope, Send

from aspider._exceptions import InputsMissing
from aspider.plan.tasks import InputResource, ResolvedInput
from aspider.processors import Processor, load_processors
from aspider.run.backends import LocalBackend
from aspider.run.sweep import SweepOptions, sweep_project
from aspider.run.tasks.staging import ZIP_ONE_FILE_BELOW, _Folders, stage_zipped
from pbs import LocalTransport, job_name
from xnat_client import Credentials, XnatClient
from xnat_client.sandbox import XnatServer, generate_project
from xnat_client.sandbox._store import StoredScan

pytestmark = pytest.mark.anyio

SERIES = {f"{n:03d}.dcm": bytes([n]) * (100 + n) for n in range(1, 41)}
SERIES["extra/notes.txt"] = b"a file in a folder of the resource"

PROCESSOR = """\
procyamlversion: 3.0.0-dev.0
level: scan
inputs:
  xnat:
    scans:
      - name: series
        types: SERIES
        resources:
          - resource: DICOM
            ftype: {ftype}
            fdest: dicom
{extra}
outputs:
  - stats: listing.txt
command:
  type: shell
  script: find "$INDIR" -type f | sort > "$OUTDIR/listing.txt"
"""


def _processor(folder: Path, ftype: str, extra: str = "") -> Processor:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "series_v1.0.0.yaml"
    path.write_text(PROCESSOR.format(ftype=ftype, extra=extra))
    (processor,) = load_processors([path])
    return processor


def _series_scan(server: XnatServer, files: dict[str, bytes]) -> tuple[str, StoredScan]:
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=3)
    session = next(server.store.sessions_of("P1"))
    scan = server.store.add_scan(session, "77", type="SERIES")
    server.store.add_resource(scan.resources, "DICOM", "DICOM", "RAW", dict(files))
    return session.id, scan


async def _one_sweep(xnat: XnatClient, processor: Processor, root: Path) -> tuple[Path, str]:
    """One sweep; the task's job directory and its status with the note."""
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(root))
        await sweep_project(xnat, backend, "P1", [processor], SweepOptions())
    snapshot = await xnat.project_snapshot("P1")
    (task,) = [a for s in snapshot.sessions for a in s.assessors if a.proctype == "series_v1"]
    return root / job_name(task.label), f"{task.procstatus}: {task.note}"


def _requests_to(server: XnatServer, session_id: str) -> list[str]:
    prefix = f"/data/experiments/{session_id}/scans/77/resources/DICOM"
    return [f"{r.method} {r.path}?{r.query}" for r in server.requests if r.path.startswith(prefix)]


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _names_under(folder: Path) -> set[str]:
    return {p.name for p in folder.rglob("*")}


async def test_a_series_for_a_dir_input_is_staged_from_one_request(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """41 files, folders kept, as DAX's DIR layout: INPUTS/<fdest>/<RESOURCE>/<path>."""
    session_id, _ = _series_scan(server, SERIES)
    job, status = await _one_sweep(xnat, _processor(tmp_path / "p", "DIR"), tmp_path / "w")
    assert status.startswith("JOB_RUNNING"), status
    assert _tree(job / "INPUTS") == {f"dicom/DICOM/{name}": data for name, data in SERIES.items()}
    assert _requests_to(server, session_id) == [
        f"GET /data/experiments/{session_id}/scans/77/resources/DICOM/files?format=zip"
    ]


async def test_a_dirj_input_lands_flat(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """DIRJ is `unzip -j`: every file directly under INPUTS/<fdest>/."""
    _series_scan(server, SERIES)
    job, _ = await _one_sweep(xnat, _processor(tmp_path / "p", "DIRJ"), tmp_path / "w")
    expected = {f"dicom/{name.rsplit('/', 1)[-1]}": data for name, data in SERIES.items()}
    assert _tree(job / "INPUTS") == expected


async def test_a_resource_with_a_pattern_is_listed_and_only_the_matches_move(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """With `fmatch` on a resource of many files, a listing chooses: no zip of all of them."""
    session_id, _ = _series_scan(server, SERIES)
    processor = _processor(tmp_path / "p", "DIR", "            fmatch: '00*.dcm'")
    job, _ = await _one_sweep(xnat, processor, tmp_path / "w")
    wanted = {n for n in SERIES if n.startswith("00")}
    assert set(_tree(job / "INPUTS")) == {f"dicom/DICOM/{n}" for n in wanted}
    asked = _requests_to(server, session_id)
    assert not [r for r in asked if "format=zip" in r]
    assert len(asked) == 1 + len(wanted)  # the listing, then one GET per file


async def test_a_file_input_of_a_one_file_resource_is_one_request(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    session_id, _ = _series_scan(server, {"only.dcm": b"DICM" * 10})
    job, _ = await _one_sweep(xnat, _processor(tmp_path / "p", "FILE"), tmp_path / "w")
    assert _tree(job / "INPUTS") == {"dicom": b"DICM" * 10}
    assert len(_requests_to(server, session_id)) == 1


async def test_a_large_single_file_is_listed_and_fetched_not_zipped(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """XNAT would deflate a zip of it: a listing and one plain download move it instead."""
    big = bytes(range(256)) * (ZIP_ONE_FILE_BELOW // 256)
    session_id, _ = _series_scan(server, {"big.dcm": big})
    job, _ = await _one_sweep(xnat, _processor(tmp_path / "p", "FILE"), tmp_path / "w")
    assert (job / "INPUTS" / "dicom").read_bytes() == big
    base = f"/data/experiments/{session_id}/scans/77/resources/DICOM/files"
    assert _requests_to(server, session_id) == [f"GET {base}?format=json", f"GET {base}/big.dcm?"]


async def test_a_resource_grown_since_the_snapshot_blocks_a_file_input_with_the_reason(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """The snapshot counted one file, the zip brings two: InputsMissing, never a guess."""
    session_id, _ = _series_scan(server, {"a.dcm": b"A", "b.dcm": b"B"})
    res = InputResource("DICOM", "FILE", None, "one.dcm", None, None, True, "", file_count=1)
    item = ResolvedInput("series", "scan", "", session_id, "", scan_id="77", resources=(res,))
    inputs = PurePosixPath(tmp_path / "INPUTS")
    async with LocalTransport() as transport:
        folders = _Folders(transport, set())
        with pytest.raises(InputsMissing, match="multiple files"):
            await stage_zipped(xnat, transport, inputs, folders, item, res, set())
        any1 = replace(res, fmulti="any1")  # DAX's "take the first" is honoured instead
        staged = await stage_zipped(xnat, transport, inputs, folders, item, any1, set())
    assert staged is not None
    assert [(f.path, f.target) for f in staged] == [("a.dcm", "one.dcm")]
    assert (tmp_path / "INPUTS" / "one.dcm").read_bytes() == b"A"


@pytest.mark.parametrize("name", ["../escape.dcm", "a/../../escape.dcm"])
async def test_a_member_that_would_land_outside_inputs_is_refused(
    server: XnatServer, xnat: XnatClient, tmp_path: Path, name: str
) -> None:
    """A file named to climb out of INPUTS/ blocks the task with the reason; nothing lands."""
    _series_scan(server, {"ok.dcm": b"ok", name: b"evil"})
    _, status = await _one_sweep(xnat, _processor(tmp_path / "p", "DIR"), tmp_path / "w")
    assert status.startswith("NEED_INPUTS"), status
    assert "not a plain relative path" in status
    assert "escape.dcm" not in _names_under(tmp_path)


MAKER = """\
procyamlversion: 3.0.0-dev.0
level: scan
inputs:
  xnat:
    scans:
      - name: series
        types: SERIES
        resources:
          - resource: DICOM
            fmatch: '001.dcm'
outputs:
  - dir: folder
    resource: FOLDER
command:
  type: shell
  script: |
    mkdir -p "$OUTDIR/folder/sub"
    echo one > "$OUTDIR/folder/a.txt"; echo two > "$OUTDIR/folder/b.txt"
    echo three > "$OUTDIR/folder/sub/c.txt"
"""

TAKER = """\
procyamlversion: 3.0.0-dev.0
level: session
inputs:
  xnat:
    assessors:
      - name: made
        proctypes: maker_v1
        resources:
          - resource: FOLDER
            ftype: DIR
            fdest: made
outputs:
  - stats: listing.txt
command:
  type: shell
  script: find "$INDIR" -type f | sort > "$OUTDIR/listing.txt"
"""


def _chain(folder: Path) -> list[Processor]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "maker_v1.0.0.yaml").write_text(MAKER)
    (folder / "taker_v1.0.0.yaml").write_text(TAKER)
    return load_processors([folder])


async def _ended(job: Path) -> None:
    with anyio.fail_after(60):
        while not (job / "status" / "exit_code").exists():  # noqa: ASYNC110 - another process
            await anyio.sleep(0.05)


@pytest.mark.parametrize("chain", [True, False])
async def test_an_upstream_folder_is_staged_from_one_zip(
    server: XnatServer, xnat: XnatClient, tmp_path: Path, chain: bool
) -> None:
    """A DIR input of an upstream's folder: one zip, whether the sweep just verified its upload
    (chained) or a later sweep finds it in XNAT; never a download per file."""
    _series_scan(server, SERIES)
    processors, root = _chain(tmp_path / "p"), tmp_path / "w"
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(root))
        first = await sweep_project(xnat, backend, "P1", processors, SweepOptions())
        (made,) = [a.task.label for a in first.plan.actions() if a.kind == "submit"]
        await _ended(root / job_name(made))
        server.requests.clear()
        await sweep_project(xnat, backend, "P1", processors, SweepOptions(chain=chain))
        if not chain:
            await sweep_project(xnat, backend, "P1", processors, SweepOptions())
    snapshot = await xnat.project_snapshot("P1")
    (taker,) = [a for s in snapshot.sessions for a in s.assessors if a.proctype == "taker_v1"]
    assert taker.procstatus == "JOB_RUNNING", taker.note
    inputs = _tree(root / job_name(taker.label) / "INPUTS")
    assert inputs == {
        "made/FOLDER/a.txt": b"one\n",
        "made/FOLDER/b.txt": b"two\n",
        "made/FOLDER/sub/c.txt": b"three\n",
    }
    folder = [
        r for r in server.requests if "/resources/FOLDER/files" in r.path and r.method == "GET"
    ]
    assert [(r.path.rsplit("/", 1)[-1], r.query) for r in folder] == [("files", "format=zip")]


class SimplifiedZips(XnatServer):
    """An XNAT whose zips come in another layout (as if every zip were `structure=simplified`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and b"format=zip" in scope.get("query_string", b""):
            scope = {**scope, "query_string": scope["query_string"] + b"&structure=simplified"}
        await super().__call__(scope, receive, send)


async def test_a_zip_in_another_layout_is_listed_instead_and_the_task_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A server that zips differently costs the listing and a download per file, never a task."""
    server = SimplifiedZips()
    session_id, _ = _series_scan(server, SERIES)
    transport = httpx.ASGITransport(app=server.app)
    credentials = Credentials.password("admin", "admin")
    async with XnatClient("http://xnat.test", credentials=credentials, transport=transport) as xnat:
        job, status = await _one_sweep(xnat, _processor(tmp_path / "p", "DIR"), tmp_path / "w")
    assert status.startswith("JOB_RUNNING"), status
    assert _tree(job / "INPUTS") == {f"dicom/DICOM/{name}": data for name, data in SERIES.items()}
    asked = _requests_to(server, session_id)
    assert asked[0].endswith("files?format=zip&structure=simplified")
    assert len(asked) == 2 + len(SERIES)  # the refused zip, the listing, a GET per file
    assert "zip was not usable" in caplog.text
