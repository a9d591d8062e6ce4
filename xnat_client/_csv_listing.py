"""
Bulk listings read as CSV (`format=csv`) and folded while the body streams.

The snapshot's session listing is 120,000 joined rows for a 10,000-session project. As JSON it
is 84 MB; as CSV (what pyxnat and dax ask for) it is 25 MB, and each chunk can be parsed by the
C `csv` reader and folded as soon as it arrives, so parsing overlaps the transfer and the whole
body, its decoded rows and the models never coexist. XNAT's toCSV writes a header row first,
`\\n` line ends, minimal quoting, and turns line breaks inside values into spaces (xnat-rest.md
2.1); a record still never splits inside a quoted cell here, in case another server keeps them.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Generic, Protocol, TypeVar

from ._exceptions import BadResponse, Unavailable
from ._http import HttpCore
from ._responses import excerpt, looks_like_html

log = logging.getLogger("xnat_client")
# A column alias of XNAT's SQL (XftStringUtils.CreateAlias): how an empty listing is headed.
_SQL_ALIAS = re.compile(r"^[A-Za-z0-9_]+$")

CpuWork = Callable[[], AbstractContextManager[object]]
BLOCK_BYTES = 1 << 20  # fold at least this much at a time: fewer, longer CPU-bound steps


class Fold(Protocol):
    def add(self, rows: list[list[str]], escaped: bool) -> None: ...


F = TypeVar("F", bound=Fold)


class _Reader(Generic[F]):
    """Bytes in, folded rows out: complete records only, the rest carried to the next chunk."""

    def __init__(self, path: str, make: Callable[[list[str]], F], secrets: Iterable[str]) -> None:
        self.path = path
        self.make = make
        self.secrets = list(secrets)
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.carried: list[str] = []  # text after the last complete record
        self.quotes = 0  # how many `"` the carried text holds, mod 2
        self.head = ""
        self.header: list[str] | None = None
        self.fold: F | None = None

    def feed(self, chunk: bytes, final: bool = False) -> None:
        text = self.decoder.decode(chunk, final)
        if len(self.head) < 64:  # a proxy's or login page instead of the listing?
            self.head += text[: 64 - len(self.head)]
            if looks_like_html(self.head):
                raise self._bad("an HTML page where a CSV listing was expected", text)
        cut = len(text) if final else text.rfind("\n") + 1
        if not final and (cut == 0 or (self.quotes + text.count('"', 0, cut)) % 2):
            # No complete record yet, or that line break is inside a quoted cell: wait.
            self.carried.append(text)
            self.quotes = (self.quotes + text.count('"')) % 2
            return
        block = "".join([*self.carried, text[:cut]])
        self.carried, self.quotes = [text[cut:]], text.count('"', cut) % 2
        self._fold(block)

    def _fold(self, block: str) -> None:
        try:
            rows = list(csv.reader(io.StringIO(block, newline="")))
        except csv.Error as exc:
            raise self._bad(f"malformed CSV ({exc})", block) from None
        if self.header is None and rows:
            self.header = rows.pop(0)
        if not rows:
            return
        if self.fold is None:
            assert self.header is not None
            if "ID" not in self.header:
                raise self._bad("a listing without an ID column", block)
            self.fold = self.make(self.header)
        self.fold.add(rows, "&" in block)

    def finish(self) -> F:
        """
        The fold of every row. A header and no rows is an empty listing whatever the header
        says: XNAT's experiment and assessor listings name their columns only when rows exist,
        so an empty one is headed by raw SQL aliases, with no `ID` and no `URI`.
        """
        self.feed(b"", final=True)
        if self.header is None:
            raise self._bad("an empty answer where a CSV listing was expected", "")
        if self.fold is None:
            if "ID" not in self.header and not all(map(_SQL_ALIAS.match, self.header)):
                raise self._bad("a listing without an ID column", ",".join(self.header))
            self.fold = self.make(self.header)
        return self.fold

    def _bad(self, what: str, text: str) -> BadResponse:
        return BadResponse(
            what,
            method="GET",
            path=self.path,
            status=200,
            excerpt=excerpt(text[:4096], self.secrets),
        )


async def fold_csv(
    core: HttpCore,
    path: str,
    params: Mapping[str, str],
    make: Callable[[list[str]], F],
    cpu: CpuWork = nullcontext,
) -> F:
    """
    GET a listing as CSV and fold it with `make(header)`, a block of about a MiB at a time.

    Each block is folded inside `cpu()`, a synchronous step with no await in it (the caller's
    hook, e.g. a pause of the garbage collector). Failures before the first byte are retried
    by `HttpCore`; a body cut short is read again once from the start, with a fresh fold.
    """
    query = {**params, "format": "csv"}
    for attempt in (1, 2):
        reader = _Reader(path, make, core.auth.secrets())
        in_body = False
        try:
            async with core.stream(path, query) as chunks:
                in_body = True
                block: list[bytes] = []
                size = 0
                async for chunk in chunks:
                    block.append(chunk)
                    size += len(chunk)
                    if size >= BLOCK_BYTES:
                        with cpu():
                            reader.feed(b"".join(block))
                        block, size = [], 0
                with cpu():
                    reader.feed(b"".join(block))
                    return reader.finish()
        except Unavailable as exc:
            if not in_body or attempt == 2:
                raise
            log.warning("GET %s was cut short (%s); reading it again", path, exc)
    raise AssertionError("unreachable")
