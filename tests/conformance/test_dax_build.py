"""`dax build`, DAX's own command, unpatched and in its venv, creates its assessors through the
server over HTTP and HTTPS."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio

PROCESSOR = """\
---
procyamlversion: 3.0.0-dev.0
containers:
  - {name: imgstats, path: imgstats_v1.0.0.sif, source: none}
requirements: {walltime: '0-00:05', memory: 256M}
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1w
        resources:
          - {resource: NIFTI, fmatch: '*.nii.gz', fdest: image.nii.gz}
outputs:
  - stats: stats.txt
command: {type: singularity_exec, container: imgstats, args: 'true'}
"""


def write_settings(root: Path, url: str) -> Path:
    """A DAX settings file with one v3 processor (its container is never run by a build)."""
    (root / "processors").mkdir()
    (root / "processors" / "imgstats_v1.0.0.yaml").write_text(PROCESSOR)
    template = root / "job_template_v3.txt"
    template.write_text("#!/bin/sh\n${job_cmds}\n")
    settings = root / "settings.yaml"
    settings.write_text(
        f"---\nprocessorlib: {root / 'processors'}\nresdir: {root / 'res'}\n"
        f"jobtemplate: {template}\nattrs:\n  queue_limit: 10\n  job_email_options: NONE\n"
        f"  xnat_host: {url}\n  xnat_user: admin\n  xnat_pass: admin\n"
        f"  root_job_dir: {root / 'jobs'}\n"
        "yamlprocessors:\n  - {name: imgstats, filepath: imgstats_v1.0.0.yaml}\n"
        "projects:\n  - {project: DEMO, yamlprocessors: imgstats}\n"
    )
    return settings


async def test_dax_build_creates_one_assessor_per_session(
    client_pythons: dict[str, Path], serve: Any, tmp_path: Path
) -> None:
    """Every session (each has a T1w) gets one imgstats_v1 assessor labelled as DAX labels
    them, with its inputs resolved to the T1w scan, and the build logs no error."""
    server = XnatServer()
    generate_project(server, "DEMO", sessions=3, assessors_per_session=0, seed=4)
    (tmp_path / "home").mkdir()
    async with serve(server) as served:
        settings = write_settings(tmp_path, served.url)
        dax = client_pythons["dax"].parent / "dax"
        env = {**served.env(), "HOME": str(tmp_path / "home"), "XNAT_HOST": served.url}
        log = tmp_path / "build.log"
        argv = [str(dax), "build", str(settings), "--project", "DEMO", "--logfile", str(log)]
        with anyio.fail_after(180):
            done = await anyio.run_process(argv, env=env, check=False)
    text = log.read_text()
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    assert "ERROR" not in text, text[-3000:]
    assert "CRITICAL" not in text, text[-3000:]
    sessions = list(server.store.projects["DEMO"].sessions.values())
    for session in sessions:
        [assessor] = session.assessors.values()
        subject = server.store.subjects[session.subject_id]
        prefix = f"DEMO-x-{subject.label}-x-{session.label}-x-imgstats_v1-x-"
        assert assessor.label.startswith(prefix)
        assert assessor.xsi_type == "proc:genProcData"
        # DAX 2.21 writes the job's batch file in the same build and marks it JOB_RUNNING.
        assert (assessor.fields["proctype"], assessor.fields["procstatus"]) == (
            "imgstats_v1",
            "JOB_RUNNING",
        )
        inputs = json.loads(html.unescape(assessor.fields["inputs"]))
        assert inputs["scan_t1"].endswith(f"/experiments/{session.label}/scans/1")
