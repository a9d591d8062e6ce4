"""Streamed bulk listings render exactly what the generic row walk renders, JSON and CSV."""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

import anyio
import pytest
from starlette.datastructures import QueryParams

from xnat_client.sandbox import XnatServer, generate_project
from xnat_client.sandbox._columns import AssessorContext, Context, SessionContext
from xnat_client.sandbox._listing import Query, build_query, to_csv, walk
from xnat_client.sandbox._render import BATCH_ROOTS, FastWalk

pytestmark = pytest.mark.anyio

SESSION_COLUMNS = (
    "ID,label,xnat:imagescandata/id,xnat:imagescandata/note,xnat:imagescandata/file/label,"
    "project,xnat:imagescandata/series_description,xnat:imagescandata/file/file_count"
)
HOSTILE = ['a,"b"\nc', "", "naïve, 東京", 'only"quote', "cr\r\nlf", "x&quot;y"]


def _project(sessions: int = 5) -> XnatServer:
    """A synthetic project whose first sessions carry quotes, commas, line breaks, unicode."""
    server = XnatServer()
    generate_project(server, "DEMO", sessions=sessions, seed=9)
    for n, session in enumerate(server.store.sessions_of("DEMO")):
        if n < len(HOSTILE):
            session.label = HOSTILE[n]
        for m, scan in enumerate(session.scans.values()):
            scan.note = HOSTILE[(n + m) % len(HOSTILE)]
            scan.series_description = HOSTILE[(n + 2 * m) % len(HOSTILE)]
    first = next(iter(server.store.sessions_of("DEMO")))
    first.scans.clear()  # a session without scans: one LEFT JOIN row
    return server


def _fast_rows(ctx: Context, query: Query, roots: list[Any], as_json: bool) -> list[str]:
    walker = FastWalk(query.columns, query.depth, ctx, as_json)
    return [row for batch in walker.batches(roots, [], None) for row in batch]


def test_fast_json_rows_match_the_generic_walk() -> None:
    """Each streamed JSON row holds the same cells as the generic walk's row."""
    server = _project()
    ctx = SessionContext(server.store)
    roots = list(server.store.sessions_of("DEMO"))
    query = build_query(ctx, QueryParams(f"columns={SESSION_COLUMNS}"), (), ("xsiType",), None)
    generic = [json.loads("{" + r + "}") for r in walk(query, ctx, roots, as_json=True)]
    fast = [json.loads("{" + r + "}") for r in _fast_rows(ctx, query, roots, True)]
    assert fast == generic
    assert len(fast) == 1 + 4 * 6 * 2


def test_fast_csv_matches_the_generic_csv_writer() -> None:
    """Streamed CSV records are byte for byte what csv.writer writes, in requested order."""
    server = _project()
    ctx = SessionContext(server.store)
    roots = list(server.store.sessions_of("DEMO"))
    query = build_query(ctx, QueryParams(f"columns={SESSION_COLUMNS}"), (), ("xsiType",), None)
    flat = [c.header for lv in range(query.depth + 1) for c in query.columns if c.level == lv]
    dicts = [dict(zip(flat, v, strict=True)) for v in walk(query, ctx, roots, as_json=False)]
    expected = to_csv(dicts, query.headers).split("\n", 1)[1]
    fast = _fast_rows(ctx, query, roots, False)
    assert "".join(r + "\n" for r in fast) == expected
    parsed = list(csv.reader(io.StringIO(expected)))
    assert {row[3] for row in parsed} >= {'a,"b" c', "naïve, 東京", "cr lf"}


def test_fast_csv_of_assessors_matches_the_generic_csv_writer() -> None:
    """The assessor x output listing (session columns read through the parent) matches too."""
    server = _project()
    ctx = AssessorContext(server.store)
    roots = list(server.store.assessors_of("DEMO"))
    columns = "ID,session_label,proc:genprocdata/out/file/label,proc:genprocdata/inputs,label"
    query = build_query(ctx, QueryParams(f"columns={columns}"), (), (), None)
    flat = [c.header for lv in range(query.depth + 1) for c in query.columns if c.level == lv]
    dicts = [dict(zip(flat, v, strict=True)) for v in walk(query, ctx, roots, as_json=False)]
    expected = to_csv(dicts, query.headers).split("\n", 1)[1]
    assert "".join(r + "\n" for r in _fast_rows(ctx, query, roots, False)) == expected


async def test_streamed_listing_is_sent_in_several_body_messages() -> None:
    """A listing of many sessions leaves the app in several body messages that parse whole."""
    server = XnatServer()
    generate_project(server, "DEMO", sessions=2 * BATCH_ROOTS + 1, seed=4)
    query = "format=csv&project=DEMO&xsiType=xnat:imageSessionData&columns=ID,xnat:imagescandata/id"
    token = base64.b64encode(b"admin:admin")
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/data/experiments",
        "raw_path": b"/data/experiments",
        "query_string": query.encode(),
        "headers": [(b"authorization", b"Basic " + token)],
    }
    requested = False
    bodies: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if requested:
            await anyio.sleep_forever()
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        if message["type"] == "http.response.body":
            bodies.append(message.get("body", b""))

    with anyio.fail_after(10):
        await server.app(scope, receive, send)
    table = list(csv.reader(io.StringIO(b"".join(bodies).decode())))
    assert len([b for b in bodies if b]) >= 3
    assert table[0] == ["ID", "xnat:imagescandata/id", "xsiType", "project", "URI"]
    assert len(table) == 1 + (2 * BATCH_ROOTS + 1) * 6
