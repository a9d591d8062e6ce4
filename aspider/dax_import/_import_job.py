"""
One import under way: the document, what DAX reads besides it, what it comes to so far, and the
problems found. Every step of the import takes an `ImportJob` and adds to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aspider.dax_import._conversion import Carried, Conversion
from aspider.dax_import._document import DaxDocument, dotted, shown
from aspider.processors import KeyPath


@dataclass(frozen=True)
class DaxEnvironment:
    """What DAX reads besides its settings file: `XNAT_HOST`, `~/.netrc`, the current folder."""

    xnat_host: str | None
    netrc: Path
    cwd: Path

    @classmethod
    def current(cls) -> DaxEnvironment:
        home = Path.home()
        return cls(os.environ.get("XNAT_HOST") or None, home / ".netrc", Path.cwd())


@dataclass
class ImportJob:
    """One import under way: the document, what it comes to, and the problems found."""

    doc: DaxDocument
    env: DaxEnvironment
    out: Conversion = field(default_factory=Conversion)
    problems: list[str] = field(default_factory=list)

    def problem(self, where: KeyPath, message: str) -> None:
        """A problem with the value at `where`: `file:line: where: message`."""
        self.problems.append(f"{self.doc.at(*where)}: {dotted(where)}: {message}")

    def carry(self, setting: str, value: str, source: str) -> None:
        self.out.carried.append(Carried(setting, value, source))

    def source(self, *where: str | int) -> str:
        return f"{dotted(where)} ({self.doc.at(*where)})"

    def carry_from(self, where: KeyPath, setting: str, value: str) -> None:
        self.carry(setting, value, self.source(*where))

    def section(self, name: str) -> dict[str, Any]:
        """The settings' section `name` (`xnat`, `cluster`, ...), made when first written."""
        found: dict[str, Any] = self.out.settings.setdefault(name, {})
        return found

    def mapping(self, *where: str | int) -> dict[str, Any]:
        """The mapping at `where`; empty when absent, or reported when of another shape."""
        value = self.doc.get(*where)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(where, f"a mapping of key: value, not {shown(value)}")
            return {}
        return value

    def text(self, *where: str | int) -> str | None:
        """One value at `where` as text; None when absent or empty, or reported when a list."""
        value = self.doc.get(*where)
        if value is None or value == "":
            return None
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value).strip() or None
        self.problem(where, f"one value (text), not {shown(value)}")
        return None

    def path(self, raw: str, base: str | None = None) -> Path:
        """A path as DAX opens it: `~` expanded, relative to `base`, then to the current folder."""
        path = _expanded(raw)
        if not path.is_absolute() and base:
            path = _expanded(base) / path
        return Path(os.path.normpath(self.env.cwd / path))


def relative_hint(raw: str, base: str | None = None) -> str:
    """For a file not found: where a relative path was read from, and where to run instead."""
    if (_expanded(base) / raw if base else _expanded(raw)).is_absolute():
        return ""
    return (
        " (a relative path is read from the current folder, as DAX reads it: run import-dax "
        "where dax runs, e.g. the home folder for cron)"
    )


def _expanded(raw: str) -> Path:
    try:
        return Path(raw).expanduser()
    except RuntimeError:  # `~someone` with no such user: a name like any other
        return Path(raw)
