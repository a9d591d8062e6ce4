"""
Run inside DAX's own virtual environment: load each processor file as DAX 2.x would, one JSON
line per file on stdout.

Two DAX checks per file: `dax.processors.load_from_yaml` (what `dax build` calls for every file
named in its settings; a failure there stops the whole build) and `dax.validate.validate` (the
yamale schema check behind `dax validate`, which picks the project, subject or session schema
from the file's inputs). It passes DAX's XnatUtils module as the XNAT handle, as `dax build`
does; nothing is contacted, the loader only reads the file. Project processors
(`inputs.xnat.subjects`, run by DAX's REDCap-driven analyses, not by `dax build`) get the schema
check only.

Any exception DAX raises is DAX's verdict on the file, so each check catches them all.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

logging.disable(logging.CRITICAL)


def _kind(contents: dict[str, Any]) -> str:
    xnat = (contents.get("inputs") or {}).get("xnat") or {}
    if xnat.get("subjects"):
        return "project"
    if xnat.get("sessions"):
        return "subject"
    return "session"


def _error(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:]
    where = f" ({Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def check(path: str, template: str) -> dict[str, Any]:
    import yaml
    from dax import XnatUtils, processors, validate

    result: dict[str, Any] = {"path": path}
    try:
        with open(path) as stream:
            contents = yaml.safe_load(stream)
        result["kind"] = _kind(contents) if isinstance(contents, dict) else "not a mapping"
    except Exception as exc:  # noqa: BLE001 - DAX fails the same way reading it
        result["kind"] = "unreadable"
        result["load"] = result["validate"] = _error(exc)
        return result
    try:
        validate.validate(path)
        result["validate"] = "ok"
    except Exception as exc:  # noqa: BLE001 - the schema check's verdict
        result["validate"] = _error(exc)
    if result["kind"] == "project":
        result["load"] = "n/a"
        return result
    try:
        proc = processors.load_from_yaml(XnatUtils, path, job_template=template)
        result["load"] = "ok"
        result["class"] = type(proc).__name__
        result["proctype"] = getattr(proc, "proctype", None) or getattr(proc, "name", None)
        result["procversion"] = getattr(proc, "procversion", None) or getattr(proc, "version", None)
    except Exception as exc:  # noqa: BLE001 - the loader's verdict
        result["load"] = _error(exc)
    return result


def main(paths: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        template = str(Path(tmp) / "job_template.txt")
        for path in paths:
            print(json.dumps(check(path, template)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
