"""
XNAT's `ResultSet` listings: column selection, filters, one row per join, JSON and CSV.

Rows are plain dicts of strings built level by level: a session's values are computed once and
merged into each of its scan x resource rows, so a 10,000-session project renders in one pass
with `json.dumps` and no per-row model (QueryOrganizerResource, XFTTable.toJSON/toCSV).
"""

from __future__ import annotations

import csv
import io
import json
import json.encoder
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import QueryParams
from starlette.responses import Response

from xnat_client.server._columns import Column, Context, Getter
from xnat_client.server._xml import escape_xml

Row = dict[str, str]
_encode_string: Callable[[str], str] = json.encoder.encode_basestring_ascii
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

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


def build_query(
    ctx: Context,
    params: QueryParams,
    defaults: Sequence[str],
    auto: Sequence[str] = (),
    uri: Getter | None = None,
) -> Query:
    """Resolve `columns=` (or the defaults), auto-added columns, `URI`, and the filters."""
    requested = params.get("columns", "")
    names = defaults if requested in ("", "DEFAULT") else requested.split(",")
    columns: list[Column] = []
    seen: set[str] = set()
    for name in [*names, *auto]:
        column = None if name == "URI" else ctx.column(name.strip())
        if column is not None and column.header not in seen:
            seen.add(column.header)
            columns.append(column)
    if uri is not None:
        columns.append(Column("URI", 0, uri))
    query = Query(columns, _filters(ctx, params))
    levels = [c.level for c in query.columns] + [f[0] for f in query.filters]
    query.depth = max(levels, default=0)
    return query


def _filters(ctx: Context, params: QueryParams) -> list[tuple[int, Getter, Matcher]]:
    found = []
    for key, value in params.multi_items():
        if key in _RESERVED or ("/" not in key and key not in ctx.shortcuts):
            continue
        column = ctx.column(key)
        if column is not None:
            found.append((column.level, column.get, matcher(value)))
    return found


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


@dataclass(slots=True)
class Part:
    """The values one object contributes to a row, shared by every row below it."""

    values: list[str]
    fragment: str | None = None  # its `"key":"value",...` JSON text, made on first use


@dataclass(slots=True)
class Table:
    """Rows as tuples of per-level parts, so a session's values are encoded once, not per row."""

    levels: list[list[str]]  # headers per join level
    rows: list[tuple[Part, ...]]

    def dicts(self) -> list[Row]:
        flat = [h for headers in self.levels for h in headers]
        return [
            dict(zip(flat, [v for p in row for v in p.values], strict=True)) for row in self.rows
        ]

    def json_rows(self) -> str:
        """The `Result` array as JSON text, built from cached per-part fragments."""
        templates = [",".join(json.dumps(h) + ":%s" for h in headers) for headers in self.levels]
        encode = _encode_string
        pieces = []
        for row in self.rows:
            fragments = []
            for level, part in enumerate(row):
                if part.fragment is None:
                    part.fragment = templates[level] % tuple(map(encode, part.values))
                if part.fragment:
                    fragments.append(part.fragment)
            pieces.append("{" + ",".join(fragments) + "}")
        return "[" + ",".join(pieces) + "]"


def collect_rows(query: Query, ctx: Context, roots: Iterable[Any]) -> Table:
    """One row per join down to the deepest level a column or filter touches (LEFT JOIN)."""
    depth = query.depth
    span = range(depth + 1)
    cols = [[c for c in query.columns if c.level == lv] for lv in span]
    getters = [[c.get for c in level] for level in cols]
    filts = [[(g, m) for lv, g, m in query.filters if lv == level] for level in span]
    filtered_below = [any(filts[d] for d in range(lv + 1, depth + 1)) for lv in span]
    blanks = [Part([""] * len(cols[lv])) for lv in span]
    out: list[tuple[Part, ...]] = []
    children = ctx.children

    def walk(level: int, obj: Any, prefix: tuple[Part, ...]) -> bool:
        for get, match in filts[level]:
            if not match(get(obj)):
                return False
        here = (*prefix, Part([g(obj) for g in getters[level]]))
        if level == depth:
            out.append(here)
            return True
        emitted = False
        for child in children(level, obj):
            emitted = walk(level + 1, child, here) or emitted
        if not emitted and not filtered_below[level]:
            out.append(here + tuple(blanks[level + 1 :]))
            emitted = True
        return emitted

    for root in roots:
        walk(0, root, ())
    return Table([[c.header for c in level] for level in cols], out)


def page(table: Table, params: QueryParams) -> tuple[Table, bool]:
    """`sortBy`/`sortOrder`, then `offset`/`limit`; returns the rows and whether paging applied."""
    rows = table.rows
    flat = [h for headers in table.levels for h in headers]
    keys = [flat.index(k) for k in params.get("sortBy", "").split(",") if k in flat]
    if keys:
        rows = sorted(
            rows,
            key=lambda r: [[v for p in r for v in p.values][k] for k in keys],
            reverse=params.get("sortOrder", "").upper() == "DESC",
        )
    offset, limit = params.get("offset"), params.get("limit")
    if offset is None and limit is None:
        return Table(table.levels, rows), False
    start = int(offset) if offset and offset.isdigit() else 0
    size = 100  # XNAT's DEFAULT_PAGE_SIZE when only `offset` is given
    if limit == "*":
        size = len(rows)
    elif limit and limit.isdigit():
        size = int(limit)
    return Table(table.levels, rows[start : start + size]), True


def render(
    rows: list[Row] | Table,
    headers: list[str],
    fmt: str,
    extra: dict[str, Any] | None = None,
    total: bool = True,
) -> Response:
    """The ResultSet in the requested format; CSV always has its header row."""
    if fmt == "csv":
        dicts = rows.dicts() if isinstance(rows, Table) else rows
        return Response(to_csv(dicts, headers), media_type="text/csv")
    count = len(rows.rows) if isinstance(rows, Table) else len(rows)
    result_json = rows.json_rows() if isinstance(rows, Table) else json.dumps(rows)
    head: dict[str, Any] = {}
    if extra and "Columns" in extra:
        head["Columns"] = extra["Columns"]
    tail: dict[str, Any] = {"totalRecords": str(count)} if total else {}
    tail.update({k: v for k, v in (extra or {}).items() if k != "Columns"})
    body = '{"ResultSet":{' + "".join(f"{json.dumps(k)}:{json.dumps(v)}," for k, v in head.items())
    body += '"Result":' + result_json
    body += "".join(f",{json.dumps(k)}:{json.dumps(v)}" for k, v in tail.items()) + "}}"
    return Response(body.encode("ascii"), media_type="application/json")


def to_csv(rows: list[Row], headers: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_one_line(row.get(h, "")) for h in headers])
    return buffer.getvalue()


def _one_line(value: str) -> str:
    return value.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
