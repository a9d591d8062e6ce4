"""CSV listings folded while they stream: chunking, quoting, escaping, bad bodies, cut bodies."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from pydantic import BaseModel, Field, ValidationError

from xnat_client import (
    Assessor,
    BadResponse,
    Credentials,
    Resource,
    Scan,
    Session,
    Subject,
    XnatClient,
    _fold,
    _rows,
)
from xnat_client._build import builder
from xnat_client._csv_listing import _Reader
from xnat_client.sandbox import XnatServer, generate_project

from ._client_fakes import FakeXnat, client_for, csv_listing

pytestmark = pytest.mark.anyio

SCAN = _fold.SCAN
FILE = _fold.SCAN_FILE
PROC = _fold.PROC


def session_rows() -> list[dict[str, str]]:
    """Three sessions (one without scans) with a hostile note, unicode and XML-escaped cells."""
    rows = []
    for sid, scans in (("E1", ("1", "2")), ("E2", ()), ("E3", ("7",))):
        base = {"ID": sid, "label": f"{sid} ünï", "project": "P1", "subject_ID": "S1"}
        if not scans:
            rows.append(base)
        rows.extend(
            {
                **base,
                f"{SCAN}id": scan,
                f"{SCAN}note": 'a,"b"\nc &amp; d',
                f"{SCAN}frames": "176",
                f"{FILE}label": resource,
                f"{FILE}file_count": "3",
                f"{FILE}file_size": "12.0",
                f"{FILE}xnat_abstractresource_id": f"{sid}{scan}{resource}",
            }
            for scan in scans
            for resource in ("DICOM", "NIFTI")
        )
    return rows


def csv_body(rows: list[dict[str, str]], columns: str) -> bytes:
    """The rows as a CSV body, columns in the given order (extra keys after them)."""
    header = columns.split(",")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*header, "URI"])
    writer.writerows([*[r.get(h, "") for h in header], "/data/x"] for r in rows)
    return buffer.getvalue().encode()


def fold_sessions(body: bytes, chunk: int) -> list[Session]:
    pool = _fold.new_pool()
    reader = _Reader("/data/experiments", lambda h: _fold.SessionFold(h, pool), [])
    for start in range(0, len(body), chunk):
        reader.feed(body[start : start + chunk])
    return _rows.attach(reader.finish(), _fold.AssessorFold([], pool))


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_any_chunking_folds_the_same_sessions(chunk: int) -> None:
    """Chunk edges inside records, quoted line breaks and UTF-8 characters change nothing."""
    body = csv_body(session_rows(), _rows.SESSION_COLUMNS)
    sessions = fold_sessions(body, chunk)
    assert sessions == _rows.sessions(session_rows(), [])
    assert [s.label for s in sessions] == ["E1 ünï", "E2 ünï", "E3 ünï"]
    assert [len(s.scans) for s in sessions] == [2, 0, 1]
    scan = sessions[0].scans[0]
    assert (scan.note, scan.frames) == ('a,"b"\nc & d', 176)
    assert [(r.label, r.file_count, r.file_size) for r in scan.resources] == [
        ("DICOM", 3, 12),
        ("NIFTI", 3, 12),
    ]


def test_xml_entities_are_undone_once_in_every_kept_cell() -> None:
    """Escaped labels, types and resource labels, in sessions and assessors, come back as
    written: once undone (`&amp;amp;` is `&amp;`), whichever row of the join carried them."""
    rows = [
        {
            "ID": "E1",
            "label": "S &amp; T",
            "project": "P1",
            "subject_ID": "S1",
            f"{SCAN}id": "1",
            f"{SCAN}type": "T1 &lt;fast&gt;",
            f"{SCAN}note": "&amp;amp;",
            f"{FILE}label": f"R{n} &quot;x&quot;",
            f"{FILE}xnat_abstractresource_id": f"r{n}",
        }
        for n in (1, 2)
    ]
    (session,) = fold_sessions(csv_body(rows, _rows.SESSION_COLUMNS), 1 << 20)
    assert session.label == "S & T"
    (scan,) = session.scans
    assert (scan.type, scan.note) == ("T1 <fast>", "&amp;")
    assert [r.label for r in scan.resources] == ['R1 "x"', 'R2 "x"']
    assessor_rows = [
        {
            "ID": "A1",
            "label": "A &amp; B",
            "session_ID": "E1",
            f"{PROC}note": "&amp;amp;",
            f"{PROC}inputs": "{&quot;a&quot;: 1}",
            f"{PROC}out/file/label": f"OUT &amp; {n}",
        }
        for n in (1, 2)
    ]
    fold = _fold.AssessorFold(_fold.ASSESSOR_CELLS, _fold.new_pool())
    header = list(_fold.ASSESSOR_CELLS)
    fold.add([[r.get(h, "") for h in header] for r in assessor_rows], escaped=True)
    (a,) = fold.build()
    assert (a.label, a.note, a.inputs) == ("A & B", "&amp;", {"a": 1})
    assert a.resources == ("OUT & 1", "OUT & 2")


def test_columns_in_another_order_or_missing_are_picked_by_name() -> None:
    """A header in another order, lacking some columns, still folds by column name."""
    columns = f"{FILE}label,{SCAN}id,label,ID"
    sessions = fold_sessions(csv_body(session_rows(), columns), 1 << 20)
    first = sessions[0]
    assert (first.id, first.label, first.subject_id) == ("E1", "E1 ünï", "")
    assert [r.label for r in sessions[0].scans[0].resources] == ["DICOM", "NIFTI"]
    assert sessions[0].scans[0].resources[0].id == ""


def test_the_roots_key_column_before_the_wanted_run_changes_nothing() -> None:
    """A project listing's leading key column (`session_ID`) is cut off; the rest folds as is."""
    plain = csv_body(session_rows(), _rows.SESSION_COLUMNS)
    keyed = csv_body(
        [{**r, "session_ID": r["ID"]} for r in session_rows()],
        "session_ID," + _rows.SESSION_COLUMNS,
    )
    assert fold_sessions(keyed, 1 << 20) == fold_sessions(plain, 1 << 20)


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b"<!DOCTYPE html><html><title>Login</title></html>", "HTML page"),
        (b"", "empty answer"),
        (b'{"ResultSet":{"Result":[]}}\n', "without an ID column"),
    ],
)
@pytest.mark.parametrize("chunk", [1, 16, 4096])
def test_bodies_that_are_not_csv_listings_are_bad_responses(
    body: bytes, what: str, chunk: int
) -> None:
    """An HTML page, an empty body or a non-CSV body is a BadResponse, not an empty project."""
    with pytest.raises(BadResponse, match=what):
        fold_sessions(body, chunk)


def test_built_models_equal_validated_models() -> None:
    """Unvalidated building gives the same models as validation, all fields set, still frozen."""
    cases: list[tuple[type[BaseModel], dict[str, Any]]] = [
        (Subject, {"id": "S1", "label": "s", "project": "P"}),
        (Resource, {"label": "R", "id": "1", "format": "", "file_count": 2, "file_size": None}),
        (Scan, {"id": "1", "type": "T1", "series_description": "", "quality": "usable",
                "note": "", "frames": None, "xsi_type": "", "resources": ()}),
    ]  # fmt: skip
    for model, values in cases:
        built = builder(model)(dict(values))
        assert built == model(**values)
        assert built.model_fields_set == set(model.model_fields)
        with pytest.raises(ValidationError):
            built.label = "changed"  # type: ignore[misc]
    make = builder(Subject)
    first, second = (
        make({"id": "S1", "label": "a", "project": "P"}),
        make({"id": "S2", "label": "b", "project": "P"}),
    )
    copied = first.model_copy(update={"label": "c"})
    assert (copied.label, second.model_fields_set) == ("c", {"id", "label", "project"})


def test_builder_refuses_models_it_cannot_build() -> None:
    """A model with an alias needs model_construct; builder says so instead of misbuilding."""

    class Aliased(BaseModel):
        value: str = Field(alias="Value")

    with pytest.raises(TypeError, match="model_construct"):
        builder(Aliased)


class _CutStream(httpx.AsyncByteStream):
    """A body that breaks off after its first bytes, like a dropped connection."""

    def __init__(self, start: bytes) -> None:
        self.start = start

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.start
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


async def test_a_listing_cut_short_is_read_again_once() -> None:
    """A session listing whose body breaks off is requested again and folded from scratch."""
    body = csv_body(session_rows(), _rows.SESSION_COLUMNS)
    cuts = {"left": 1}

    def respond(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if params.get("xsiType") == "xnat:imageSessionData":
            if cuts["left"]:
                cuts["left"] -= 1
                return httpx.Response(200, stream=_CutStream(body[: len(body) // 2]))
            return httpx.Response(200, content=body)
        if params.get("xsiType") == "proc:genProcData":
            row = {"ID": "A1", "session_ID": "E3", f"{PROC}inputs": "{&quot;a&quot;: 1}"}
            return csv_listing([row], _rows.ASSESSOR_COLUMNS)
        return csv_listing([{"ID": "S1", "label": "s", "project": "P1"}])

    fake = FakeXnat(respond)
    async with client_for(fake) as xnat:
        snapshot = await xnat.project_snapshot("P1")
    assert [s.id for s in snapshot.sessions] == ["E1", "E2", "E3"]
    assert [len(s.scans) for s in snapshot.sessions] == [2, 0, 1]
    [assessor] = snapshot.sessions[2].assessors
    assert isinstance(assessor, Assessor)
    assert (assessor.inputs, assessor.inputs_raw) == ({"a": 1}, '{"a": 1}')
    assert snapshot.requests == 4


async def test_snapshot_from_the_server_keeps_hostile_cells() -> None:
    """Quotes, commas, unicode and escaped entities survive the server's CSV into the models."""
    server = XnatServer(users={"admin": "admin-pw"})
    generate_project(server, "DEMO", sessions=4, seed=3)
    session = next(iter(server.store.sessions_of("DEMO")))
    scan = next(iter(session.scans.values()))
    scan.note = 'bad, "moved"\nrescan ü &amp; more'
    async with XnatClient(
        "http://xnat.local",
        credentials=Credentials.password("admin", "admin-pw"),
        transport=httpx.ASGITransport(app=server.app),
    ) as xnat:
        with anyio.fail_after(30):
            snapshot = await xnat.project_snapshot("DEMO")
    got = snapshot.sessions[0].scan(scan.id)
    assert got is not None
    assert got.note == 'bad, "moved" rescan ü & more'
    assert len(snapshot.sessions) == 4
    assert sum(len(s.assessors) for s in snapshot.sessions) == len(
        list(server.store.assessors_of("DEMO"))
    )
