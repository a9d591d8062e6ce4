"""
Run inside DAX's own virtual environment: read a DAX settings file as `dax build` does
(`dax.bin.read_yaml_settings`) and print, per project, each session and subject processor as
DAX will run it (proctype, walltime, memory, each input's types) as one JSON document. It
contacts no XNAT.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

logging.disable(logging.CRITICAL)


def describe(proc: Any) -> dict[str, Any]:
    inputs = {name: ",".join(spec["types"]) for name, spec in sorted(proc.proc_inputs.items())}
    return {
        "proctype": proc.proctype,
        "walltime": str(proc.walltime_str),
        "memory": str(proc.memreq_mb),
        "inputs": inputs,
    }


def main(path: str) -> None:
    from dax import bin as dax_bin

    launcher = dax_bin.read_yaml_settings(path, logging.getLogger("dax"))
    found: dict[str, list[dict[str, Any]]] = {}
    # Session processors land in project_process_dict (with any legacy ones), subject ones
    # in project_sgp_processors.
    for source in (launcher.project_process_dict, launcher.project_sgp_processors):
        for project, procs in source.items():
            found.setdefault(project, []).extend(describe(p) for p in procs)
    print(json.dumps({p: sorted(v, key=lambda d: d["proctype"]) for p, v in found.items()}))


if __name__ == "__main__":
    main(sys.argv[1])
