"""
XNAT's `ResultSet` listings: column selection, filters, one row per join, JSON and CSV.

Bulk listings (<= 3 join levels, filters on the root, no sort) are rendered a batch at a time
and streamed by `_render.py`; everything else goes through the generic row walk here, which
builds rows level by level as plain values (QueryOrganizerResource, XFTTable.toJSON/toCSV).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.datastructures import QueryParams
from starlette.responses import Response, StreamingResponse

from xnat_client.sandbox._columns import MANY_SEPARATOR, Column, Context, Getter
from xnat_client.sandbox._gc import collector_paused
from xnat_client.sandbox._render import FastWalk, csv_line, json_maker
from xnat_client.sandbox._xml import escape_xml

Row = dict[str, str]
Matcher = Callable[[str], bool]


# Query parameters that steer a listing and are never filters.
_RESERVED = frozenset(
    {"format", "columns", "xsiType", "sortBy", "sortOrder", "limit", "offset", "fields"}
)


@dataclass(slots=True)
class Query:
    columns: list[Column]
    filters: list[tuple[int, Getter, Matcher]] = field(default_factory=list)
    depth: int = 0
    raw_when_empty: bool = False  # no rows: head the CSV by SQL aliases, without `URI`

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def empty_headers(self) -> list[str]:
        """The header of this listing when it has no rows."""
        if not self.raw_when_empty:
            return self.headers
        return [c.alias for c in self.columns if c.header != "URI"]


def build_query(
    ctx: Context,
    params: QueryParams,
    defaults: Sequence[str],
    auto: Sequence[str] = (),
    uri: Getter | None = None,
    first: Sequence[str] = (),
) -> Query:
    """Resolve `first` (the root's key), `columns=` (or the defaults), auto-added columns,
    `URI`, and the filters."""
    requested = params.get("columns", "")
    names = defaults if requested in ("", "DEFAULT") else requested.split(",")
    columns: list[Column] = []
    seen: set[str] = set()
    for name in [*first, *names, *auto]:
        column = None if name == "URI" else ctx.column(name.strip())
        if column is not None and column.header not in seen:
            seen.add(column.header)
            columns.append(_shown(column))
    if uri is not None:
        columns.append(Column("URI", 0, uri))
    query = Query(columns, _filters(ctx, params))
    levels = [c.level for c in query.columns] + [f[0] for f in query.filters]
    query.depth = max(levels, default=0)
    return query


def _shown(column: Column) -> Column:
    """A multi-valued column shows its values comma-separated (XNAT would give a row each)."""
    if not column.many:
        return column
    get = column.get
    return replace(column, get=lambda o: get(o).replace(MANY_SEPARATOR, ","))


def _filters(ctx: Context, params: QueryParams) -> list[tuple[int, Getter, Matcher]]:
    found = []
    for key, value in params.multi_items():
        if key in _RESERVED or ("/" not in key and key not in ctx.shortcuts):
            continue
        column = ctx.column(key)
        if column is None:
            continue
        match = matcher(value)
        if column.many:  # any one of the values
            match = _any_of(match)
        found.append((column.level, column.get, match))
    return found


def _any_of(match: Matcher) -> Matcher:
    return lambda joined: any(match(v) for v in joined.split(MANY_SEPARATOR))


def matcher(spec: str) -> Matcher:
    """XNAT's filter values: comma-separated alternatives, `*` or `%` as LIKE wildcards."""
    exact: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    for alt in escape_xml(spec).split(","):
        if "*" in alt or "%" in alt:
            body = ".*".join(re.escape(p) for p in re.split(r"[*%]", alt))
            patterns.append(re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL))
        else:
            exact.add(alt)
    return lambda v: v in exact or any(p.match(v) for p in patterns)


def _join_json(prefix: str, fragment: str) -> str:
    return f"{prefix},{fragment}" if prefix and fragment else prefix or fragment


def _join_values(prefix: list[str], values: list[str]) -> list[str]:
    return prefix + values


def walk(query: Query, ctx: Context, roots: Iterable[Any], as_json: bool) -> list[Any]:
    """One row per join down to the deepest level a column or filter touches (LEFT JOIN).

    Each object's values are read (and, for JSON, encoded) once and shared by every row below
    it. Rows come out as JSON object texts, or as flat value lists in level order.
    """
    depth = query.depth
    span = range(depth + 1)
    cols = [[c for c in query.columns if c.level == lv] for lv in span]
    getters = [[c.get for c in level] for level in cols]
    filts = [[(g, m) for lv, g, m in query.filters if lv == level] for level in span]
    filtered_below = [any(filts[d] for d in range(lv + 1, depth + 1)) for lv in span]
    if as_json:
        makers: list[Callable[[Sequence[str]], Any]] = [
            json_maker([c.header for c in lv]) for lv in cols
        ]
        join: Callable[[Any, Any], Any] = _join_json
    else:
        makers = [list for _ in span]
        join = _join_values
    blank_tail = [makers[lv]([""] * len(cols[lv])) for lv in span]
    out: list[Any] = []
    children = ctx.children

    def tail_blank(level: int, row: Any) -> Any:
        for lv in range(level + 1, depth + 1):
            row = join(row, blank_tail[lv])
        return row

    def visit(level: int, obj: Any, prefix: Any) -> bool:
        for get, match in filts[level]:
            if not match(get(obj)):
                return False
        here = join(prefix, makers[level]([g(obj) for g in getters[level]]))
        if level == depth:
            out.append(here)
            return True
        emitted = False
        for child in children(level, obj):
            emitted = visit(level + 1, child, here) or emitted
        if not emitted and not filtered_below[level]:
            out.append(tail_blank(level, here))
            emitted = True
        return emitted

    start: Any = "" if as_json else []
    for root in roots:
        visit(0, root, start)
    return out


def window(params: QueryParams) -> tuple[int, int] | None:
    """The (start, stop) rows `offset`/`limit` ask for; None when the listing is not paged."""
    offset, limit = params.get("offset"), params.get("limit")
    if offset is None and limit is None:
        return None
    start = int(offset) if offset and offset.isdigit() else 0
    size = 100  # XNAT's DEFAULT_PAGE_SIZE when only `offset` is given
    if limit == "*":
        size = sys.maxsize - start
    elif limit and limit.isdigit():
        size = int(limit)
    return start, start + size


def page(rows: list[Any], params: QueryParams) -> tuple[list[Any], bool]:
    """`offset`/`limit` applied to ready rows; returns the rows and whether it paged."""
    span = window(params)
    return (rows, False) if span is None else (rows[span[0] : span[1]], True)


def respond(
    query: Query,
    ctx: Context,
    roots: Iterable[Any],
    params: QueryParams,
    extra: dict[str, Any] | None = None,
) -> Response:
    """Run a listing query and answer it in the requested format."""
    fmt = params.get("format", "json").lower()
    sort_by = [k for k in params.get("sortBy", "").split(",") if k in query.headers]
    if fmt in ("json", "csv") and not sort_by:
        streamed = _streamed(query, ctx, list(roots), params, extra)
        if streamed is not None:
            return streamed
    with collector_paused():
        if fmt == "json" and not sort_by:
            rows, paged = page(walk(query, ctx, roots, True), params)
            body = "[" + ",".join("{" + r + "}" for r in rows) + "]"
            return _envelope(body, len(rows), extra, total=not paged)
        flat = [c.header for lv in range(query.depth + 1) for c in query.columns if c.level == lv]
        values = walk(query, ctx, roots, as_json=False)
        if sort_by:
            keys = [flat.index(k) for k in sort_by]
            descending = params.get("sortOrder", "").upper() == "DESC"
            values.sort(key=lambda v: [v[k] for k in keys], reverse=descending)
        values, paged = page(values, params)
        dicts = [dict(zip(flat, v, strict=True)) for v in values]
        headers = query.headers if dicts else query.empty_headers
        return render(dicts, headers, fmt, extra, total=not paged)


def _streamed(
    query: Query,
    ctx: Context,
    roots: list[Any],
    params: QueryParams,
    extra: dict[str, Any] | None,
) -> Response | None:
    """The bulk-listing shape, rendered a batch at a time while it is sent; None otherwise.

    The roots are listed up front, so a write landing mid-answer cannot break the iteration."""
    as_json = params.get("format", "json").lower() == "json"
    levels = [level for level, _, _ in query.filters]
    if not FastWalk.fits(query.depth, levels, len(query.columns), as_json):
        return None
    walker = FastWalk(query.columns, query.depth, ctx, as_json)
    span = window(params)
    batches = walker.batches(roots, [(g, m) for _, g, m in query.filters], span)
    if as_json:
        chunks = _json_chunks(batches, extra, total=span is None)
        return StreamingResponse(chunks, media_type="application/json")
    chunks = _csv_chunks(batches, query.headers, query.empty_headers)
    return StreamingResponse(chunks, media_type="text/csv")


def _next_batch(batches: Iterator[list[str]]) -> list[str] | None:
    with collector_paused():
        return next(batches, None)


async def _json_chunks(
    batches: Iterator[list[str]], extra: dict[str, Any] | None, total: bool
) -> AsyncIterator[bytes]:
    head, count, sep = _head(extra) + '"Result":[', 0, ""
    yield head.encode("ascii")
    while (batch := _next_batch(batches)) is not None:
        count += len(batch)
        yield (sep + ",".join(["{" + r + "}" for r in batch])).encode("ascii")
        sep = ","
    yield ("]" + _tail(count, extra, total)).encode("ascii")


async def _csv_chunks(
    batches: Iterator[list[str]], headers: list[str], empty_headers: list[str]
) -> AsyncIterator[bytes]:
    batch = _next_batch(batches)
    yield (csv_line(headers if batch is not None else empty_headers) + "\n").encode()
    while batch is not None:
        yield ("\n".join(batch) + "\n").encode()
        batch = _next_batch(batches)


def _head(extra: dict[str, Any] | None) -> str:
    head = {"Columns": extra["Columns"]} if extra and "Columns" in extra else {}
    return '{"ResultSet":{' + "".join(f"{json.dumps(k)}:{json.dumps(v)}," for k, v in head.items())


def _tail(count: int, extra: dict[str, Any] | None, total: bool) -> str:
    tail: dict[str, Any] = {"totalRecords": str(count)} if total else {}
    tail.update({k: v for k, v in (extra or {}).items() if k != "Columns"})
    return "".join(f",{json.dumps(k)}:{json.dumps(v)}" for k, v in tail.items()) + "}}"


def _envelope(result_json: str, count: int, extra: dict[str, Any] | None, total: bool) -> Response:
    body = _head(extra) + '"Result":' + result_json + _tail(count, extra, total)
    return Response(body.encode("ascii"), media_type="application/json")


def render(
    rows: list[Row],
    headers: list[str],
    fmt: str,
    extra: dict[str, Any] | None = None,
    total: bool = True,
) -> Response:
    """A ResultSet of ready rows in the requested format; CSV always has its header row."""
    if fmt == "csv":
        return Response(to_csv(rows, headers), media_type="text/csv")
    return _envelope(json.dumps(rows), len(rows), extra, total)


def to_csv(rows: list[Row], headers: list[str]) -> str:
    lines = [csv_line(headers)]
    lines.extend(csv_line([row.get(h, "") for h in headers]) for row in rows)
    return "\n".join(lines) + "\n"
