"""XML escaping as XNAT applies it to every query value it stores (TurbineUtils.escapeParam)."""

from __future__ import annotations

_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})


def escape_xml(value: str) -> str:
    """`StringEscapeUtils.escapeXml11`: the five XML entities."""
    return value.translate(_ENTITIES)
