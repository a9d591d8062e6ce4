"""
Per-project overrides of a processor, with the keys a DAX settings file's `arguments` take.

DAX varies a processor per project by naming it twice in its settings, each time with its own
`arguments`; aspider says the same under `projects.<P>.processors.<proctype>`. The keys are
DAX's:

- `walltime`, `memory` (also as `attrs.walltime`, `attrs.memory`): the job's requirements;
- `inputs.xnat.<scans|assessors|petscans>.<input name>.<key>`: one key of that input (`types`,
  `needs_qc`, `skip_unusable`, `keep_multis`, `require_usable`, `proctypes`, ...);
- `inputs.xnat.<scans|assessors|petscans>.<input name>.resources.<varname>.fmatch`: the
  pattern of one resource, found by its varname (its default varname too, where DAX finds
  only those written out).

An override makes a new, validated processor: a value that does not fit (`keep_multis: 0`) is
refused as the file's own would be.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from aspider._exceptions import ConfigError
from aspider.processors._checks import check_spec
from aspider.processors._model import ProcessorSpec, StaleKind
from aspider.processors._python import Processor

OverrideValue = str | int | float | bool
_KINDS = ("scans", "assessors", "petscans")
_INPUT_KEY = re.compile(
    r"^inputs\.xnat\.(?P<kind>scans|assessors|petscans)\.(?P<name>[^.]+)"
    r"(?:\.resources\.(?P<varname>[^.]+)\.fmatch|\.(?P<key>[A-Za-z_]+))$"
)
_REQUIREMENTS = {
    "walltime": "walltime",
    "attrs.walltime": "walltime",
    "memory": "memory",
    "attrs.memory": "memory",
    "tune": "tune",  # aspider's: `memory`, `walltime` or `memory,walltime`
}


def override_key_problem(key: str) -> str:
    """Why `key` is not one of DAX's `arguments` keys ("" when it is)."""
    if key in _REQUIREMENTS or key == "rerun_stale" or _INPUT_KEY.match(key):
        return ""
    return (
        f"{key!r} is not an override: use walltime, memory, tune, rerun_stale, "
        "inputs.xnat.<scans|assessors|petscans>.<input>.<key> or "
        "inputs.xnat.<scans|assessors|petscans>.<input>.resources.<varname>.fmatch"
    )


def with_overrides(
    processor: Processor, overrides: Mapping[str, OverrideValue], where: str
) -> Processor:
    """
    `processor` with the overrides applied (itself when there are none). `where` names the
    settings entry in errors (`projects.P1.processors.fs_v7`).

    Raises:
        ConfigError: an override names an input or resource the processor does not have, or
            sets a value its file could not hold.
    """
    if not overrides:
        return processor
    data = processor.spec.model_dump(mode="python", exclude_unset=True, by_alias=True)
    for key, value in overrides.items():
        _apply(data, key, value, f"{where}.{key}")
    try:
        spec = ProcessorSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        place = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{where}: the overrides make {place} invalid: {message}") from exc
    findings = check_spec(spec)
    if findings:
        raise ConfigError(f"{where}: the overrides make an invalid processor: {findings[0][1]}")
    return _with_spec(processor, spec)


def _with_spec(processor: Processor, spec: ProcessorSpec) -> Processor:
    """
    The same processor (name, version, file, notes) with another spec; of the same class, so
    a Python processor's own `match` still runs under a project's overrides or stale policy.
    """
    return type(processor)(
        spec,
        proctype=processor.proctype,
        procversion=processor.procversion,
        source=processor.source,
        notes=processor.notes,
    )


def with_stale_policy(processor: Processor, kinds: Sequence[StaleKind]) -> Processor:
    """
    `processor` with a project's (or the site's) `rerun_stale` where neither its file nor an
    override set its own; itself when there is nothing to add.
    """
    if processor.spec.rerun_stale is not None or not kinds:
        return processor
    return _with_spec(processor, processor.spec.model_copy(update={"rerun_stale": tuple(kinds)}))


def _apply(data: dict[str, Any], key: str, value: OverrideValue, where: str) -> None:
    problem = override_key_problem(key)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    if key == "rerun_stale":
        data["rerun_stale"] = value
        return
    if key in _REQUIREMENTS:
        data.setdefault("requirements", {})[_REQUIREMENTS[key]] = value
        return
    match = _INPUT_KEY.match(key)
    assert match is not None
    xnat = data.setdefault("inputs", {}).setdefault("xnat", {})
    items = xnat.get(match["kind"], [])
    item = next((i for i in items if i.get("name") == match["name"]), None)
    if item is None:
        names = [i.get("name", "") for kind in _KINDS for i in xnat.get(kind, [])]
        close = difflib.get_close_matches(match["name"], names, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; its inputs: {', '.join(names)}"
        raise ConfigError(f"{where}: no {match['kind'][:-1]} input {match['name']!r}{hint}")
    if match["varname"] is None:
        item[match["key"]] = value
        return
    resources = item.get("resources", [])
    for r, res in enumerate(resources):
        default = f"{match['name']}-{res.get('resource')}-{r}"
        if match["varname"] in (res.get("varname"), default):
            res["fmatch"] = value
            return
    raise ConfigError(f"{where}: input {match['name']!r} has no resource {match['varname']!r}")
