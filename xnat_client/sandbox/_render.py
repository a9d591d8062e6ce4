"""
Bulk listings rendered in batches and streamed, in JSON or CSV.

The listings a snapshot asks for (every session x scan x resource of a project, every assessor
x output resource) are the largest answers the server gives. They are rendered level by level:
a session's cells are encoded once and shared by its 12 rows, a whole level is read with one
combined attrgetter, and a CSV level is one `",".join` unless a cell needs quoting. Rows are
produced a batch of roots at a time and sent as they are ready (chunked transfer), so the client
parses the start of the body while the server still renders the rest.
"""

from __future__ import annotations

import csv
import io
import json
import json.encoder
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import attrgetter
from typing import Any

from xnat_client.sandbox._columns import Column, Context, Getter, attribute_of

Encoder = Callable[[Sequence[str]], str]
_encode_string: Callable[[str], str] = json.encoder.encode_basestring_ascii
BATCH_ROOTS = 64  # roots per streamed chunk: ~800 session rows, ~150 KB of CSV


def json_maker(headers: list[str]) -> Encoder:
    """One level's cells as the `"key":"value",...` inside a JSON row object."""
    template = ",".join(json.dumps(h) + ":%s" for h in headers)
    encode = _encode_string
    return lambda values: template % tuple(map(encode, values))


def one_line(value: str) -> str:
    """XNAT's toCSV turns line breaks inside a value into spaces."""
    return value.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def csv_line(values: Iterable[str]) -> str:
    """One CSV record (minimal quoting, no line end), exactly as `csv.writer` writes it."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([one_line(v) for v in values])
    return buffer.getvalue()[:-1]


def csv_maker(width: int) -> Encoder:
    """One level's cells as CSV: a plain join unless a cell holds `,` `"` or a line break."""
    commas = width - 1

    def make(values: Sequence[str]) -> str:
        line = ",".join(values)
        if line.count(",") != commas or '"' in line or "\n" in line or "\r" in line:
            return csv_line(values)
        return line

    return make


def _cuts(runs: list[list[Column]]) -> list[tuple[int, int]]:
    """Where each run's values start and stop within its level's values."""
    found, start = [], 0
    for run in runs:
        found.append((start, start + len(run)))
        start += len(run)
    return found


def _reader(getters: list[Getter]) -> Callable[[Any], Sequence[str]]:
    """All of a level's values in one call: a combined attrgetter when every column allows."""
    names = [attribute_of(g) for g in getters]
    if len(names) > 1 and all(names):
        return attrgetter(*[n for n in names if n])
    return lambda obj: [g(obj) for g in getters]


def _nothing(values: Sequence[str]) -> str:
    return ""


class FastWalk:
    """
    The joined rows of a query of <= 3 levels whose filters are all on the root: the shape of
    every bulk listing clients send. `fits` says whether a query has that shape.

    CSV columns keep the requested order: each level's columns fall into runs of adjacent
    columns (`URI`, a root column, usually comes last, after the scan and resource columns); an
    object's runs are encoded once and a row joins the runs of its root, child and leaf in
    column order. JSON keys go in level order (as the generic walk), one run per level, so a row
    is its levels' fragments end to end. Rows come as strings: JSON object bodies (without
    braces) or CSV records (no line end).
    """

    def __init__(self, columns: list[Column], depth: int, ctx: Context, as_json: bool):
        self.depth = depth
        self.children = ctx.children
        if as_json:  # key order does not matter in JSON: level order, as the generic walk
            columns = sorted(columns, key=attrgetter("level"))
        runs: list[list[Column]] = []
        for column in columns:
            if runs and runs[-1][0].level == column.level:
                runs[-1].append(column)
            else:
                runs.append([column])
        by_level: list[list[list[Column]]] = [
            [r for r in runs if r[0].level == lv] for lv in range(3)
        ]
        self.order = [(r[0].level, by_level[r[0].level].index(r)) for r in runs]
        self.read = [_reader([c.get for run in lv for c in run]) for lv in by_level]
        self.cuts = [_cuts(lv) for lv in by_level]
        if as_json:
            self.make = [[json_maker([c.header for c in run]) for run in lv] for lv in by_level]
        else:
            self.make = [[csv_maker(len(run)) for run in lv] for lv in by_level]
        self.blank = [self._encode(lv, [""] * sum(map(len, by_level[lv]))) for lv in range(3)]
        # One run per level, in level order: a row is its levels' fragments end to end.
        self.simple = [lv for lv, _ in self.order] == sorted({lv for lv, _ in self.order})
        self.sep = ["," if by_level[lv] and any(by_level[:lv]) else "" for lv in range(3)]
        self.make1 = [m[0] if m else _nothing for m in self.make]
        self.blank1 = [b[0] if b else "" for b in self.blank]

    @staticmethod
    def fits(depth: int, filter_levels: list[int], width: int, as_json: bool) -> bool:
        """<= 3 levels, filters only on the root; a one-column CSV goes the generic way
        (`csv.writer` quotes a lone empty cell)."""
        return depth <= 2 and not any(filter_levels) and (as_json or width > 1)

    def _encode(self, level: int, values: Sequence[str]) -> list[str]:
        makers = self.make[level]
        if len(makers) == 1:
            return [makers[0](values)]
        return [make(values[a:b]) for make, (a, b) in zip(makers, self.cuts[level], strict=True)]

    def _row(self, parts: tuple[list[str], ...]) -> str:
        return ",".join([parts[level][run] for level, run in self.order])

    def rows_of(self, root: Any, kids: list[Any]) -> list[str]:
        """Every row below one root (LEFT JOIN: blank cells where a parent has no children)."""
        if self.simple:
            return self._simple_rows(root, kids)
        depth, encode, read, row = self.depth, self._encode, self.read, self._row
        a = encode(0, read[0](root))
        if depth == 0:
            return [row((a,))]
        if not kids:
            return [row((a, self.blank[1], self.blank[2]))]
        found: list[str] = []
        for kid in kids:
            b = encode(1, read[1](kid))
            if depth == 1:
                found.append(row((a, b)))
                continue
            leaves = self.children(1, kid)
            if not leaves:
                found.append(row((a, b, self.blank[2])))
            found.extend(row((a, b, encode(2, read[2](leaf)))) for leaf in leaves)
        return found

    def _simple_rows(self, root: Any, kids: list[Any]) -> list[str]:
        depth, read, sep, make, blank = self.depth, self.read, self.sep, self.make1, self.blank1
        a = make[0](read[0](root))
        if depth == 0:
            return [a]
        if not kids:
            a += sep[1] + blank[1]
            return [a + sep[2] + blank[2] if depth == 2 else a]
        found: list[str] = []
        for kid in kids:
            b = a + sep[1] + make[1](read[1](kid))
            if depth == 1:
                found.append(b)
                continue
            leaves = self.children(1, kid)
            if not leaves:
                found.append(b + sep[2] + blank[2])
            b += sep[2]
            found.extend([b + make[2](read[2](leaf)) for leaf in leaves])
        return found

    def count(self, kids: list[Any]) -> int:
        """How many rows `rows_of` would give, without encoding them."""
        if self.depth < 2:
            return max(1, len(kids))
        return max(1, sum(max(1, len(self.children(1, k))) for k in kids))

    def batches(
        self,
        roots: Iterable[Any],
        filters: list[tuple[Getter, Callable[[str], bool]]],
        window: tuple[int, int] | None,
    ) -> Iterator[list[str]]:
        """
        The rows, a batch of roots at a time. With a `window` (start, stop) only those rows are
        encoded; earlier roots are merely counted, so a page costs about one page of work.
        """
        batch: list[str] = []
        seen = 0
        for taken, root in enumerate(roots, 1):
            if filters and not all(m(g(root)) for g, m in filters):
                continue
            kids = self.children(0, root) if self.depth else []
            if window is None:
                batch.extend(self.rows_of(root, kids))
            else:
                start, stop = window
                if seen >= stop:
                    break
                n = self.count(kids)
                if seen + n > start:
                    batch.extend(self.rows_of(root, kids)[max(0, start - seen) : stop - seen])
                seen += n
            if taken % BATCH_ROOTS == 0 and batch:
                yield batch
                batch = []
        if batch:
            yield batch
