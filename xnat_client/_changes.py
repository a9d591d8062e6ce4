"""
What changed in a project since the last look: one small listing of its sessions' `last_modified`.

XNAT has no "modified since" filter on its listings (docs/xnat-api.md), so a watcher lists every
image session of the project with four columns and compares `last_modified` itself. That is one
request per project whatever its size, and the answer is about 80 bytes a session.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from ._cells import unescape
from ._csv_listing import fold_csv
from ._http import HttpCore
from ._snapshot import SESSION_XSI_TYPE, project_id

_COLUMNS = ("ID", "label", "subject_ID", "subject_label", "last_modified")


class SessionChange(BaseModel):
    """One session's identity and XNAT's `last_modified` timestamp for it (a string, as sent)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    label: str
    subject_id: str = ""
    subject_label: str = ""
    last_modified: str = ""


class _ChangeFold:
    """Listing rows -> SessionChange, one per session (the listing has no joins here)."""

    def __init__(self, header: Sequence[str]) -> None:
        where = {name: n for n, name in enumerate(header)}
        self._at = [where.get(name) for name in _COLUMNS]
        self.found: dict[str, SessionChange] = {}

    def add(self, rows: list[list[str]], escaped: bool) -> None:
        for row in rows:
            cells = [row[i] if i is not None and i < len(row) else "" for i in self._at]
            if escaped:
                cells = [unescape(c) for c in cells]
            if cells[0]:
                keys = ("id", "label", "subject_id", "subject_label", "last_modified")
                self.found[cells[0]] = SessionChange(**dict(zip(keys, cells, strict=True)))


async def session_changes(core: HttpCore, project: str) -> list[SessionChange]:
    """Every image session of `project` with its `last_modified`: one request."""
    params = {
        "project": project_id(project),
        "xsiType": SESSION_XSI_TYPE,
        "columns": ",".join(_COLUMNS),
    }
    fold = await fold_csv(core, "/data/experiments", params, _ChangeFold)
    return list(fold.found.values())
