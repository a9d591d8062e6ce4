"""
The DAX side of the differential tests: the real `dax build` (DAX 2.21, its own venv) against
the XNAT-compatible server over TCP, and what it left: assessors and batch scripts.

DAX runs with HOME in a temporary folder, its credentials in its settings file (as a DAX site
has them) and a job template of ours that only holds the commands (DAX's build writes the
batch files; it never submits them).
"""

from __future__ import annotations

import html
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import yaml

from tests.dax_compat._venv import dax_executable
from tests.dax_compat.sandbox import PROJECT, USER
from xnat_client.sandbox import XnatServer

HERE = Path(__file__).resolve().parent
BUILD_TIMEOUT = 300.0


@dataclass(frozen=True)
class Built:
    """One assessor after the build, as the store holds it."""

    session: str
    label: str
    proctype: str
    procstatus: str
    qcstatus: str
    inputs: dict[str, Any] | None


@dataclass
class DaxRun:
    assessors: list[Built]
    batches: dict[str, str]  # assessor label -> batch script DAX wrote
    critical: list[str]  # DAX's CRITICAL log lines (a processor that raised)
    returncode: int


JOB_TEMPLATE = HERE / "job_template_v3.sh"


def write_settings(root: Path, url: str, files: list[Path]) -> Path:
    """
    A DAX settings file naming each processor file under its own handle; the job template
    (which processors name as job_template_v3.txt, beside the settings' one) is ours.
    """
    lib = root / "processors"
    lib.mkdir(exist_ok=True)
    for path in files:
        shutil.copy(path, lib / path.name)
    for name in ("job_template.txt", "job_template_v3.txt"):
        shutil.copy(JOB_TEMPLATE, root / name)
    doc: dict[str, Any] = {
        "processorlib": str(lib),
        "singularity_imagedir": "/images",
        "resdir": str(root / "res"),
        "jobtemplate": str(root / "job_template.txt"),
        "attrs": {
            "queue_limit": 100,
            "job_email_options": "NONE",
            "xnat_host": url,
            "xnat_user": USER[0],
            "xnat_pass": USER[1],
            "root_job_dir": str(root / "jobs"),
        },
        "projects": [{"project": PROJECT}],
    }
    for key, subject in (("yamlprocessors", False), ("sgpprocessors", True)):
        chosen = [p for p in files if _is_subject_level(p) is subject]
        doc[key] = [{"name": f"{key}{i}", "filepath": p.name} for i, p in enumerate(chosen)]
        doc["projects"][0][key] = ", ".join(f"{key}{i}" for i in range(len(chosen)))
    settings = root / "settings.yaml"
    settings.write_text(yaml.safe_dump(doc, sort_keys=False))
    return settings


def _is_subject_level(path: Path) -> bool:
    """DAX's own test: a file with inputs.xnat.sessions is a subject processor."""
    doc = yaml.safe_load(path.read_text())
    return bool(((doc.get("inputs") or {}).get("xnat") or {}).get("sessions"))


async def dax_build(server: XnatServer, url: str, files: list[Path], root: Path) -> DaxRun:
    """Run `dax build` on the project and read back what it made."""
    settings = write_settings(root, url, files)
    (root / "home").mkdir(exist_ok=True)
    log = root / "build.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ASPIDER_", "XNAT_"))},
        "HOME": str(root / "home"),
        "XNAT_HOST": url,  # DAX reads it while it writes batch files, whatever its settings say
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    argv = [str(dax_executable()), "build", str(settings), "--project", PROJECT]
    with anyio.fail_after(BUILD_TIMEOUT):
        done = await anyio.run_process([*argv, "--logfile", str(log)], env=env, check=False)
    batches = {
        p.stem: p.read_text() for p in sorted((root / "res" / "DISKQ" / "BATCH").glob("*.slurm"))
    }
    text = log.read_text() if log.exists() else ""
    critical = [
        line.split(" - CRITICAL - ", 1)[1]
        for line in text.splitlines()
        if " - CRITICAL - " in line and "Traceback" not in line
    ]
    return DaxRun(_assessors(server), batches, critical, done.returncode)


def _assessors(server: XnatServer) -> list[Built]:
    found = []
    for session in server.store.sessions_of(PROJECT):
        for a in session.assessors.values():
            raw = html.unescape(a.fields.get("inputs", ""))
            found.append(
                Built(
                    session.label,
                    a.label,
                    a.fields.get("proctype", ""),
                    a.fields.get("procstatus", ""),
                    html.unescape(a.fields.get("validation/status", "")),
                    json.loads(raw) if raw.strip() else None,
                )
            )
    return sorted(found, key=lambda b: (b.session, b.proctype, b.label))


def write_netrc(home: Path, url: str) -> None:
    """The node's ~/.netrc a DAX job logs in with (`curl -n`)."""
    host = url.split("://", 1)[1].split(":", 1)[0].split("/", 1)[0]
    netrc = home / ".netrc"
    netrc.write_text(f"machine {host} login {USER[0]} password {USER[1]}\n")
    netrc.chmod(0o600)


async def run_batches(run: DaxRun, root: Path, url: str, stub: Path, out: Path) -> dict[str, int]:
    """Run each batch script DAX wrote as its job would run (bash), the stub as singularity."""
    home = root / "home"
    write_netrc(home, url)
    (root / "jobs").mkdir(exist_ok=True)  # root_job_dir: the node's scratch, which exists
    env = {
        "PATH": f"{stub}:/usr/bin:/bin",
        "HOME": str(home),
        "STUB_OUT": str(out),
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
    }
    codes = {}
    for label, text in run.batches.items():
        script = root / f"{label}.sh"
        script.write_text(text)
        with anyio.fail_after(BUILD_TIMEOUT):
            done = await anyio.run_process(["bash", str(script)], env=env, check=False)
        codes[label] = done.returncode
    return codes
