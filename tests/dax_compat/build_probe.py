"""
Run the real `dax build` against the XNAT-compatible server over TCP and show what it made.

    .venv/bin/python -m tests.dax_compat.build_probe PROCESSOR.yaml... [--keep DIR]

The sandbox project is seeded here: one subject with two MR sessions (session types `v000mo`
and `v024mo`), each with a usable T1 holding one NIfTI, a questionable T1 holding two (so a
processor without `fmulti` meets two matching files), a resting-state fMRI scan, and two
COMPLETE upstream assessors as DAX would have made them (`fmriprep-BAIS_v23` with an
`fmriprepBIDS` resource, `freesurfer800_v2` with a `SUBJECT` resource). DAX runs from its own
venv (`tests/tools/client-venvs`) with HOME in a temporary directory and its credentials in
its settings file. Files with `inputs.xnat.sessions` are listed as `sgpprocessors`, the rest as
`yamlprocessors`, each under its own name, as a DAX settings file would.

It prints one JSON line per assessor after the build (label, proctype, procstatus, QC status,
the `inputs` field as DAX wrote it), then the batch scripts DAX wrote, and DAX's CRITICAL log
lines (DAX logs an exception in one processor and goes on with the next session).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

import anyio
import yaml

from tests.dax_compat._venv import dax_executable
from xnat_client import Credentials, XnatClient
from xnat_client.sandbox import XnatServer, serve_tcp

HERE = Path(__file__).resolve().parent
# `dax build` lists files but never reads them: any bytes stand for an image.
NIFTI = b"not really a NIfTI image"
PROJECT, SUBJECT = "P1", "S1"
USER = ("dax", "dax")


def seed(server: XnatServer) -> None:
    store = server.store
    store.add_project(PROJECT, PROJECT)
    subject = store.add_subject(PROJECT, SUBJECT)
    for n, session_type in enumerate(("v000mo", "v024mo"), start=1):
        label = f"{SUBJECT}_MR{n}"
        session = store.add_session(subject, label, date=f"202{n}-01-01", session_type=session_type)
        t1 = store.add_scan(session, "1", type="T1", quality="usable")
        store.add_resource(t1.resources, "NIFTI", "NIFTI", "RAW", {"t1.nii.gz": NIFTI})
        extra = store.add_scan(session, "2", type="T1", quality="questionable")
        two = {"a.nii.gz": NIFTI, "b.nii.gz": NIFTI}
        store.add_resource(extra.resources, "NIFTI", "NIFTI", "RAW", two)
        store.add_scan(session, "3", type="rest1APA_FMRI_MB3_2_5mm_1300", quality="usable")
        scan_path = f"/projects/{PROJECT}/subjects/{SUBJECT}/experiments/{label}/scans/1"
        upstream = (
            ("fmriprep-BAIS_v23", "fmriprepBIDS", "sub-1/func.nii.gz", "Needs QA"),
            ("freesurfer800_v2", "SUBJECT", "mri/orig.mgz", "Passed"),
        )
        for proctype, resource, name, qc in upstream:
            fields = {
                "proctype": proctype,
                "procversion": "1.0.0",
                "procstatus": "COMPLETE",
                "validation/status": qc,
                "inputs": json.dumps({"scan_t1": scan_path}),
            }
            label_a = f"{PROJECT}-x-{SUBJECT}-x-{label}-x-{proctype}-x-0000abcd"
            assessor = store.add_assessor(session, label_a, **fields)
            store.add_resource(assessor.out, resource, files={name: b"x"})


def write_settings(root: Path, url: str, files: list[Path]) -> Path:
    lib = root / "processors"
    lib.mkdir()
    groups: dict[str, list[str]] = {"yamlprocessors": [], "sgpprocessors": []}
    for path in files:
        shutil.copy(path, lib / path.name)
        doc = yaml.safe_load(path.read_text())
        sessions = ((doc.get("inputs") or {}).get("xnat") or {}).get("sessions")
        groups["sgpprocessors" if sessions else "yamlprocessors"].append(path.name)
    # Processors name `job_template_v3.txt` or nothing (then DAX uses that name beside the
    # settings' template): a template that only runs the commands, never submitted by a build.
    for name in ("job_template.txt", "job_template_v3.txt"):
        (root / name).write_text("#!/bin/bash\n${job_cmds}\n")
    (root / "home").mkdir()
    doc = {
        "processorlib": str(lib),
        "resdir": str(root / "res"),
        "jobtemplate": str(root / "job_template.txt"),
        "attrs": {
            "queue_limit": 10,
            "job_email_options": "NONE",
            "xnat_host": url,
            "xnat_user": USER[0],
            "xnat_pass": USER[1],
            "root_job_dir": str(root / "jobs"),
        },
        "projects": [{"project": PROJECT}],
    }
    for key, names in groups.items():
        doc[key] = [{"name": f"{key}{i}", "filepath": n} for i, n in enumerate(names)]
        doc["projects"][0][key] = ", ".join(f"{key}{i}" for i in range(len(names)))
    settings = root / "settings.yaml"
    settings.write_text(yaml.safe_dump(doc, sort_keys=False))
    return settings


async def probe(dax: str, files: list[Path], root: Path) -> None:
    server = XnatServer(users={USER[0]: USER[1]})
    seed(server)
    async with serve_tcp(server) as url:
        settings = write_settings(root, url, files)
        log = root / "build.log"
        env = {**os.environ, "HOME": str(root / "home"), "XNAT_HOST": url}
        command = [dax, "build", str(settings), "--project", PROJECT, "--logfile", str(log)]
        done = await anyio.run_process(command, env=env, check=False)
        print(json.dumps({"dax build exit": done.returncode, "work": str(root)}))
        async with XnatClient(url, credentials=Credentials.password(*USER)) as xnat:
            snapshot = await xnat.project_snapshot(PROJECT)
    for session in snapshot.sessions:
        for a in session.assessors:
            row = {"session": session.label, "label": a.label, "proctype": a.proctype}
            row |= {"procstatus": a.procstatus, "qcstatus": a.qcstatus, "inputs": a.inputs}
            print(json.dumps(row))
    for batch in sorted((root / "res" / "DISKQ" / "BATCH").glob("*")):
        print(f"batch: {batch}")
    for line in log.read_text().splitlines():
        if " - CRITICAL - " in line and "Traceback" not in line:
            print(line.split(" - CRITICAL - ", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("processors", type=Path, nargs="+")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    files = [p.resolve() for p in args.processors]
    dax = str(dax_executable())
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        anyio.run(probe, dax, files, args.keep.resolve())
        return
    with tempfile.TemporaryDirectory(prefix="dax-build-probe-") as root:
        anyio.run(probe, dax, files, Path(root))


if __name__ == "__main__":
    main()
