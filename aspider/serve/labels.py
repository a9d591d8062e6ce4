"""
What a name in a request path may be: an XNAT ID or label, `[A-Za-z0-9_-]`, at most 255 long.

XNAT itself checks IDs against that set and its UI holds labels to it (xnat-api.md); a label
outside it cannot be addressed reliably by URL anyway. Anything else in a path (quotes, `;`,
`$()`, spaces, unicode, `..`, slashes, backslashes, very long names) is refused before it is
looked at, so no such name reaches the watch, the log or a sweep.
"""

from __future__ import annotations

import re

MAX_LABEL = 255
_LABEL = re.compile(r"[A-Za-z0-9_-]+")


def is_xnat_label(name: str) -> bool:
    """`name` is a non-empty XNAT ID or label of allowed characters and length."""
    return 0 < len(name) <= MAX_LABEL and _LABEL.fullmatch(name) is not None
