"""
The field paths a write names, in the one spelling the store keeps.

Clients write XNAT's xpaths in several spellings: `validation/status`,
`validation[@xsi:type=xnat:validationData]/status` (xnatpy names the type of a typed child),
`demographics[@xsi:type=xnat:demographicData]/gender`, and custom fields as
`fields/field[name=reviewer]/field` (xnatpy) or `fields/field[name=reviewer]`. XNAT reads each
as the same field (XFTItem.setProperty with its predicate parsing), so the store keeps one key per
field: the lower-cased path without type predicates, and custom fields as
`fields/field[name=<name>]` with the name as written.
"""

from __future__ import annotations

import re

_TYPE_PREDICATE = re.compile(r"\[@xsi:type=[^\]]*\]", re.IGNORECASE)
_CUSTOM = re.compile(r"^fields/field\[name=([^\]]+)\](?:/field)?$", re.IGNORECASE)
CUSTOM_PREFIX = "fields/field[name="


def field_key(path: str) -> str:
    """The store's key for a path below the type name (`ns:type/<path>`)."""
    path = _TYPE_PREDICATE.sub("", path)
    custom = _CUSTOM.match(path)
    if custom:
        return custom_key(custom.group(1))
    return path.lower()


def custom_key(name: str) -> str:
    return f"{CUSTOM_PREFIX}{name}]"


def custom_name(key: str) -> str | None:
    """The custom field's name when `key` is one, else None."""
    if key.startswith(CUSTOM_PREFIX) and key.endswith("]"):
        return key[len(CUSTOM_PREFIX) : -1]
    return None
