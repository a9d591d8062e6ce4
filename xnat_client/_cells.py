"""
One listing cell -> one Python value.

XNAT listings are tables of strings: "" stands for null, numbers are decimal strings, and values
written through query parameters come back XML-escaped (`&quot;`). These helpers undo that for
one cell; `_rows.py` and `_fold.py` apply them to whole rows.
"""

from __future__ import annotations

import html
import json
from typing import Any

_XML_ENTITIES = (("&quot;", '"'), ("&apos;", "'"), ("&#39;", "'"), ("&lt;", "<"), ("&gt;", ">"))


def unescape(value: str) -> str:
    """Undo XNAT's XML escaping; the five XML entities take a fast path, others html.unescape."""
    rest = value
    for entity, _ in _XML_ENTITIES:
        rest = rest.replace(entity, "")
    if "&" in rest.replace("&amp;", ""):
        return html.unescape(value)
    for entity, char in _XML_ENTITIES:
        value = value.replace(entity, char)
    return value.replace("&amp;", "&")


def clean(value: str) -> str:
    """A string cell with XML entities undone (most cells have none: one `in` test)."""
    return unescape(value) if "&" in value else value


def number(value: str) -> int | None:
    """An integer cell: "" or anything that is not a whole number -> None."""
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:
        as_float = float(value)
    except ValueError:
        return None
    return int(as_float) if as_float.is_integer() else None


def inputs(raw: str) -> dict[str, Any] | None:
    """The `inputs` field as JSON (DAX stores a JSON object there); None when it is not one."""
    if not raw or raw.isspace():
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
