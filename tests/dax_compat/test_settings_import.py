"""
`aspider import-dax` against DAX's own reading of the same settings file: per project, the
same processors with the same walltime, memory and input types once each project's
`arguments` are applied (DAX's `dax.bin.read_yaml_settings` in its venv; aspider's settings
written by `import-dax`, loaded, with `projects.<P>.processors` overrides applied).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from aspider.cli import app
from aspider.processors import Processor, load_processors
from aspider.run.commands.runner import for_project
from aspider.settings import load_settings
from tests.aspider.conftest import runner
from tests.dax_compat._venv import dax_python

HERE = Path(__file__).resolve().parent
OURS = HERE / "processors"

SETTINGS = """\
processorlib: {lib}
singularity_imagedir: /images
resdir: {res}
jobtemplate: {res}/job_template.txt
attrs:
  queue_limit: 40
  xnat_host: http://127.0.0.1:9
  xnat_user: dax
  xnat_pass: never-copied
yamlprocessors:
  - {{name: anat, filepath: anat_v1.0.0.yaml}}
  - name: anat-flair
    filepath: anat_v1.0.0.yaml
    arguments:
      inputs.xnat.scans.scan_t1.types: 'FLAIR,T2_FLAIR*'
      walltime: 1-12
      memory: 24G
  - {{name: multi, filepath: multi_v1.0.0.yaml}}
  - name: multi-long
    filepath: multi_v1.0.0.yaml
    arguments: {{attrs.walltime: 0-06, inputs.xnat.scans.scan_dwi.types: 'DWI*,DTI'}}
sgpprocessors:
  - {{name: long, filepath: long_v1.0.0.yaml}}
projects:
  - {{project: P1, yamlprocessors: 'anat, multi', sgpprocessors: long}}
  - {{project: P2, yamlprocessors: 'anat-flair, multi-long'}}
"""


def _theirs(settings: Path, home: Path) -> dict[str, list[dict[str, Any]]]:
    env = {**os.environ, "HOME": str(home)}
    done = subprocess.run(
        [str(dax_python()), str(HERE / "_dax_settings.py"), str(settings)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, list[dict[str, Any]]] = json.loads(done.stdout)
    return found


def _describe(p: Processor) -> dict[str, Any]:
    inputs = {}
    for item in (*p.spec.inputs.xnat.scans, *p.spec.inputs.xnat.assessors):
        inputs[item.name] = ",".join(getattr(item, "type_globs", ()) or item.proctype_list)
    for group in p.spec.inputs.xnat.sessions:
        for item in (*group.scans, *group.assessors):
            inputs[item.name] = ",".join(getattr(item, "type_globs", ()) or item.proctype_list)
    req = p.spec.requirements
    return {
        "proctype": p.proctype,
        "walltime": str(req.walltime),
        "memory": str(req.memory),
        "inputs": dict(sorted(inputs.items())),
    }


def test_import_dax_gives_each_project_what_dax_gives_it(tmp_path: Path) -> None:
    """Every project runs the same processors as under DAX, each with DAX's walltime, memory
    and input types after its project's arguments."""
    (tmp_path / "home").mkdir()
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "job_template.txt").write_text("#!/bin/bash\n${job_cmds}\n")
    dax_settings = tmp_path / "dax.yaml"
    dax_settings.write_text(SETTINGS.format(lib=OURS, res=tmp_path / "res"))
    theirs = _theirs(dax_settings, tmp_path / "home")
    out = tmp_path / "aspider.yaml"
    result = runner.invoke(app, ["import-dax", str(dax_settings), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "never-copied" not in out.read_text()
    settings = load_settings(out)
    procs = load_processors(settings.processor_paths)
    ours = {
        project: sorted(
            (_describe(p) for p in for_project(settings, project, procs)),
            key=lambda d: d["proctype"],
        )
        for project in settings.projects
    }
    assert ours == theirs
    assert theirs["P2"][0]["walltime"] == "1-12"  # the arguments did change something
