"""
The quiet sweep, side by side with DAX's `dax build`, on the same kind of project.

DAX is not a dependency: it runs from its own virtual environment (`--dax PATH` to its `dax`
executable), as a subprocess against the same XNAT-compatible server over TCP, with HOME set
to a temporary directory and the credentials in its settings file (no ~/.netrc is written).

Its processors are DAX v3 YAML equivalents of the demo processors (same inputs and outputs; a
container path that is never run, since `dax build` only creates and updates assessors). The
quiet state is reached the way it would be in production: `dax build`, then every
proc:genProcData assessor is set COMPLETE with its declared output file, repeated until a build
leaves nothing new (the session report needs its statistics assessor COMPLETE first). Then one
more `dax build` is timed, and its requests counted by the server.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import anyio

from benchmarks._sweep_serve import OUTPUT_BYTES, PROJECT, USER
from xnat_client import AssessorFields, Credentials, ResourceRef, XnatClient

_PROCESSORS = {
    "imgstats_v1.0.0.yaml": """\
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
""",
    "sessreport_v1.0.0.yaml": """\
---
procyamlversion: 3.0.0-dev.0
containers:
  - {name: sessreport, path: sessreport_v1.0.0.sif, source: none}
requirements: {walltime: '0-00:05', memory: 256M}
inputs:
  xnat:
    assessors:
      - name: assr_stats
        proctypes: imgstats_v1
        resources:
          - {resource: STATS, fmatch: stats.txt, fdest: t1_stats.txt}
outputs:
  - {path: report.txt, type: FILE, resource: REPORT}
command: {type: singularity_exec, container: sessreport, args: 'true'}
""",
}
_OUTPUTS = {"imgstats_v1": ("STATS", "stats.txt"), "sessreport_v1": ("REPORT", "report.txt")}


@dataclass
class DaxBuild:
    seconds: float
    returncode: int
    log: Path


def write_setup(root: Path, url: str) -> Path:
    """Processors, job template and settings for `dax build` under `root`; the settings path."""
    procs = root / "processors"
    procs.mkdir(parents=True)
    for name, text in _PROCESSORS.items():
        (procs / name).write_text(text)
    template = root / "job_template_v3.txt"
    template.write_text("#!/bin/sh\n${job_cmds}\n")
    (root / "home").mkdir()
    settings = root / "settings.yaml"
    settings.write_text(
        f"---\nprocessorlib: {procs}\nresdir: {root / 'res'}\njobtemplate: {template}\n"
        f"attrs:\n  queue_limit: 10\n  job_email_options: NONE\n  xnat_host: {url}\n"
        f"  xnat_user: {USER[0]}\n  xnat_pass: {USER[1]}\n  root_job_dir: {root / 'jobs'}\n"
        "yamlprocessors:\n"
        "  - {name: imgstats, filepath: imgstats_v1.0.0.yaml}\n"
        "  - {name: sessreport, filepath: sessreport_v1.0.0.yaml}\n"
        f"projects:\n  - {{project: {PROJECT}, yamlprocessors: 'imgstats, sessreport'}}\n"
    )
    return settings


def run_build(dax: str, settings: Path, url: str, n: int) -> DaxBuild:
    root = settings.parent
    env = {**os.environ, "HOME": str(root / "home"), "XNAT_HOST": url}
    log = root / f"build{n}.log"
    command = [dax, "build", str(settings), "--project", PROJECT, "--logfile", str(log)]
    started = time.perf_counter()
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    seconds = time.perf_counter() - started
    if "ERROR" in done.stdout or done.returncode != 0:
        raise SystemExit(f"dax build failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return DaxBuild(seconds, done.returncode, log)


def startup_seconds(dax: str) -> float:
    """Wall time of `dax version`: the interpreter and import cost every build pays."""
    started = time.perf_counter()
    subprocess.run([dax, "version"], capture_output=True, timeout=300, check=False)
    return time.perf_counter() - started


async def complete_all(url: str) -> int:
    """Set every unfinished proc:genProcData assessor COMPLETE with its output; how many."""
    credentials = Credentials.password(*USER)
    async with XnatClient(url, credentials=credentials, concurrency=16) as xnat:
        snapshot = await xnat.project_snapshot(PROJECT)
        todo = [
            a
            for s in snapshot.sessions
            for a in s.assessors
            if a.proctype in _OUTPUTS and a.procstatus != "COMPLETE"
        ]
        async with anyio.create_task_group() as tg:
            for a in todo:
                tg.start_soon(_complete, xnat, a.session_id, a.id, a.proctype)
    return len(todo)


async def _complete(xnat: XnatClient, session_id: str, assessor_id: str, proctype: str) -> None:
    resource, name = _OUTPUTS[proctype]
    ref = ResourceRef.assessor_output(session_id, assessor_id, resource)
    await xnat.upload_file(ref, name, OUTPUT_BYTES, overwrite=True)
    fields = AssessorFields(procstatus="COMPLETE", qcstatus="Needs QA")
    await xnat.update_assessor(session_id, assessor_id, fields)


def settle_with_dax(dax: str, settings: Path, url: str, rounds: int = 4) -> int:
    """Build and complete until a build leaves nothing unfinished; assessors completed."""
    total = 0
    for n in range(rounds):
        run_build(dax, settings, url, n)
        completed = anyio.run(complete_all, url)
        total += completed
        if completed == 0:
            return total
    return total
