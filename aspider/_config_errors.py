"""
Configuration mistakes in a person's words: one line per problem, naming the fix.

`aspider.settings` calls these where it builds a `ConfigError`: malformed YAML as
`file:line:column: problem`, a misspelt key with the key it probably meant (difflib), a bad
value with the field it belongs to and where it came from (the settings file or the
`ASPIDER_*` variable), and an XNAT URL without a scheme with the URL to write instead.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ValidationError

ENV_PREFIX = "ASPIDER_"


def yaml_problem(path: Path, exc: yaml.YAMLError) -> str:
    """`path:line:column: not valid YAML: problem (context)`, on one line."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    extra = f" ({context})" if context else ""
    return f"{where}: not valid YAML: {problem}{extra}"


def did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    """The choice closest to a misspelt `word`, if one is close enough to be a guess."""
    found = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def _fields_at(model: type[BaseModel], path: Sequence[str | int]) -> list[str] | None:
    """The field names of the section at `path` of the settings model (None: not a section)."""
    current: Any = model
    for part in path:
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            return None
        current = fields[part].annotation
    names = getattr(current, "model_fields", None)
    return list(names) if names is not None else None


def _source(loc: Sequence[str | int], file_data: Mapping[str, Any], file_path: Path | None) -> str:
    """
    Where a value came from: an ASPIDER_* variable set for it (or for a section above it, as
    JSON), which wins over the file; else the settings file if it holds the key.
    """
    names = [
        ENV_PREFIX + "__".join(str(p).upper() for p in loc[:n]) for n in range(len(loc), 0, -1)
    ]
    set_here = {name.upper() for name in os.environ}
    env = next((name for name in names if name in set_here), None)
    if env is not None:
        return f"from {env}"
    node: Any = file_data
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return f"from {names[0]}"
        node = node[part]
    return f"in {file_path}" if file_path is not None else "in the settings"


def validation_problems(
    exc: ValidationError,
    model: type[BaseModel],
    file_data: Mapping[str, Any],
    file_path: Path | None,
) -> list[str]:
    """One line per problem: the field, where it came from, what is wrong, and the fix."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc)
        source = _source(loc, file_data, file_path)
        if err["type"] == "extra_forbidden":
            known = _fields_at(model, loc[:-1]) or []
            guess = did_you_mean(str(loc[-1]), known)
            kind = "section" if len(loc) == 1 else "key"
            fix = f"; did you mean {'.'.join([*map(str, loc[:-1]), guess])}?" if guess else ""
            choices = "" if guess else f"; known: {', '.join(known)}"
            lines.append(f"{field} ({source}): unknown {kind}{fix or choices}")
        else:
            got = err.get("input")
            shown = f" (got {got!r})" if isinstance(got, str | int | float) else ""
            lines.append(f"{field} ({source}): {err['msg']}{shown}")
    return lines


def xnat_url_problem(url: str) -> str | None:
    """Why `url` cannot be an XNAT URL, with the one to write instead; None if it can."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    bare = url.split("://", 1)[-1].strip("/")
    return (
        f"xnat.url {url!r} is not an http(s) URL: write it with its scheme, "
        f"e.g. https://{bare or 'xnat.example.org'}"
    )
