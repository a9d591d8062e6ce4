"""
A DAX settings file read: its values, the line of each key, and DAX's shape checked first.

The lines come from `aspider.processors`' YAML reader, so a problem anywhere in the import is
`file:line` of the key to fix (or of its nearest parent the file has).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aspider._exceptions import ConfigError
from aspider.dax_import._keys import ASPIDER_ONLY
from aspider.processors import KeyPath, LineMap, YamlSyntaxError, read_yaml_with_lines

_DAX_SHAPE = "a DAX settings file is a mapping with `attrs:` and a `projects:` list"


@dataclass(frozen=True)
class DaxDocument:
    """A DAX settings file as data, and the line of each of its keys and list items."""

    data: dict[str, Any]
    lines: LineMap
    path: Path

    def at(self, *where: str | int) -> str:
        """`file:line` of a key or list item (`"projects", 0`), else of its nearest parent."""
        return f"{self.path}:{self.lines.line_of(where)}"

    def get(self, *where: str | int) -> Any:
        """The value at `where`; None where the file has nothing (or another shape)."""
        return value_at(self.data, where)


def read_dax_settings(path: Path) -> DaxDocument:
    """
    A DAX settings file, read and checked for DAX's shape.

    Raises:
        ConfigError: unreadable, not YAML, an aspider settings file, or no `projects:` list.
    """
    try:
        data, lines = read_yaml_with_lines(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from exc
    except YamlSyntaxError as exc:
        raise ConfigError(f"{path}:{exc.line}: {exc}") from exc
    doc = DaxDocument(data if isinstance(data, dict) else {}, lines, path)
    _check_dax_shape(doc, data)
    return doc


def _check_dax_shape(doc: DaxDocument, data: Any) -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"{doc.path}:1: not a DAX settings file: {_DAX_SHAPE}")
    projects = data.get("projects")
    theirs = [key for key in ASPIDER_ONLY if key in data]
    if isinstance(projects, dict) or theirs:
        why = (
            f"it has {', '.join(f'`{k}:`' for k in theirs)}"
            if theirs
            else "its projects: is a mapping"
        )
        where = doc.at(theirs[0]) if theirs else doc.at("projects")
        raise ConfigError(
            f"{where}: this is an aspider settings file ({why}; DAX lists `- project: NAME` "
            f"entries), not a DAX one: use it as it is: aspider config show --settings {doc.path}"
        )
    if "projects" not in data:
        raise ConfigError(f"{doc.path}:1: not a DAX settings file: no `projects:` ({_DAX_SHAPE})")
    if not isinstance(projects, list):
        raise ConfigError(
            f"{doc.at('projects')}: projects: a list of `- project: NAME` entries, not "
            f"{shown(projects)}"
        )


def value_at(data: Any, where: KeyPath) -> Any:
    """The value under `where` in plain data; None where it has nothing (or another shape)."""
    for part in where:
        if isinstance(part, int):
            data = data[part] if isinstance(data, list) and part < len(data) else None
        else:
            data = data.get(part) if isinstance(data, dict) else None
    return data


def dotted(where: KeyPath) -> str:
    """A place in the file as a person reads it: `projects[0].yamlprocessors`."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where).lstrip(".")


def shown(value: Any) -> str:
    """A value of the wrong shape, named: `a mapping`, `a list`, or its repr."""
    kinds = {dict: "a mapping", list: "a list", bool: "true/false", type(None): "nothing"}
    return kinds.get(type(value), repr(value))
