"""
Request URLs below the XNAT base URL, made without httpx parsing each one again.

Why: `httpx.URL(text)` checks every character of the text in Python, about 75 us a URL, and
merging query parameters parses it a second time; at thousands of requests a sweep that was
a fifth of the client's CPU. The paths given here were quoted segment by segment (`_paths`)
and the query is encoded here, so a URL is assembled from the parsed base by replacing its
path and query. Anything that is not plainly a quoted path takes httpx's full route.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlencode

import httpx

# Characters a quoted path may hold as they are (RFC 3986 pchar and "/"), "%" starting escapes.
_QUOTED_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*")


def encode_query(params: Mapping[str, str]) -> str:
    """Form encoding (every reserved character escaped, spaces as "+"), as httpx's `params`."""
    return urlencode(params)


class UrlMaker:
    """Makes `base + path [+ ? query]` as `httpx.URL`s for one base URL."""

    def __init__(self, base: httpx.URL) -> None:
        self.base = base
        self._root = str(base).rstrip("/")
        self._prefix = base.raw_path.decode("ascii").rstrip("/")  # quoted, as the path is
        reference = getattr(base, "_uri_reference", None)
        fields = getattr(reference, "_fields", ())
        # httpx keeps a parsed URL as a named tuple; if a release changes that, go the slow way.
        self._reference = reference if {"path", "query"} <= set(fields) else None

    def url(self, path: str, params: Mapping[str, str] | None = None) -> httpx.URL:
        """The absolute URL of an already-quoted path below the base (keeps a context path)."""
        full = self._prefix + path
        query = encode_query(params) if params else None
        if self._reference is None or _QUOTED_PATH.fullmatch(full) is None:
            return httpx.URL(self._root + path + (f"?{query}" if query else ""))
        url = httpx.URL.__new__(httpx.URL)
        url._uri_reference = self._reference._replace(path=full, query=query)
        return url
