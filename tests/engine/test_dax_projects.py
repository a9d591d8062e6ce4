"""
DAX's levels and DAX's projects on the local loop: a subject processor's task is the subject's
own proc:subjGenProcData assessor, and a project full of DAX assessors (with and without
`inputs`) sweeps with no duplicate assessor and no duplicate job.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from aspider.cli.report import status_of
from aspider.processors import Processor, load_processors
from aspider.run.backends import LocalBackend
from aspider.run.commands.rerun import choose_rerun
from aspider.run.sweep import SweepOptions, sweep_until_done
from pbs import LocalTransport
from xnat_client import AssessorFields, XnatClient
from xnat_client.sandbox import XnatServer

pytestmark = pytest.mark.anyio

LONG = """\
procyamlversion: 3.0.0-dev.0
requirements: {walltime: '0-00:05', memory: 128M}
inputs:
  xnat:
    sessions:
      - type: Baseline
        scans:
          - {name: scan_base, types: T1, nifti: base.nii.gz}
      - type: Followup
        scans:
          - {name: scan_follow, types: T1, nifti: follow.nii.gz}
    attrs:
      - {varname: who, object: assessor, attr: subject_label}
outputs:
  - stats: out.txt
command:
  type: shell
  script: >-
    cat "$INDIR/base.nii.gz" "$INDIR/follow.nii.gz" > "$OUTDIR/out.txt";
    echo {who} >> "$OUTDIR/out.txt"
"""

T1 = """\
procyamlversion: 3.0.0-dev.0
requirements: {walltime: '0-00:05', memory: 128M}
inputs:
  xnat:
    scans:
      - {name: scan_t1, types: T1, nifti: t1.nii.gz}
outputs:
  - stats: out.txt
command:
  type: shell
  script: >-
    wc -c < "$INDIR/t1.nii.gz" > "$OUTDIR/out.txt";
    echo {assessor} >> "$JOBDIR/../runs.log"
"""


def _processor(folder: Path, name: str, text: str) -> Processor:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    (proc,) = load_processors([folder / name])
    return proc


def _subject(server: XnatServer, project: str, label: str) -> None:
    store = server.store
    subject = store.add_subject(project, label)
    for n, kind in enumerate(("Baseline", "Followup"), start=1):
        session = store.add_session(
            subject, f"{label}_MR{n}", date=f"202{n}-01-01", session_type=kind
        )
        scan = store.add_scan(session, "1", type="T1", quality="usable")
        store.add_resource(scan.resources, "NIFTI", "NIFTI", files={"t1.nii.gz": label.encode()})


async def _sweep(xnat: XnatClient, project: str, procs: list[Processor], work: Path) -> None:
    with anyio.fail_after(120):
        async with LocalTransport() as transport:
            backend = LocalBackend(transport, str(work))
            await sweep_until_done(
                xnat, backend, project, procs, SweepOptions(), interval=0.2, max_sweeps=60
            )


async def test_a_subject_processor_makes_the_subjects_own_assessor(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """One proc:subjGenProcData per subject, labelled PROJ-x-SUBJ-x-PROCTYPE-x-<8 hex>, its
    inputs in two sessions, its outputs in its own resource, COMPLETE; no session assessor."""
    server.store.add_project("SUBJ")
    _subject(server, "SUBJ", "S1")
    proc = _processor(tmp_path / "procs", "long_v1.0.0.yaml", LONG)
    await _sweep(xnat, "SUBJ", [proc], tmp_path / "work")
    snapshot = await xnat.project_snapshot("SUBJ", subject_assessors=True)
    assert [a for s in snapshot.sessions for a in s.assessors] == []
    (own,) = snapshot.subject_assessors
    assert own.xsi_type == "proc:subjGenProcData"
    assert own.label.startswith("SUBJ-x-S1-x-long_v1-x-")
    assert len(own.label.rsplit("-x-", 1)[1]) == 8
    assert own.procstatus == "COMPLETE", own.note
    assert "STATS" in own.resources
    assert set(own.inputs or {}) == {"scan_base", "scan_follow"}
    stored = server.store.experiments[own.id]
    assert stored.resources["STATS"].files["out.txt"] == b"S1S1S1\n"
    # What a person sees and sends back: the status counts it under the subject's label,
    # and rerun picks it (not when sessions are named: it belongs to none) and resets it.
    counts, _ = status_of(snapshot, ["long_v1"])
    assert counts == {"long_v1": {"COMPLETE": 1}}
    assert [w for w, _ in snapshot.every_assessor()] == ["S1"]
    assert choose_rerun(snapshot, {"long_v1"}, [], ["S1_MR1"]).chosen == []
    (task,) = choose_rerun(snapshot, {"long_v1"}, ["COMPLETE"], []).chosen
    assert (task.label, task.session, task.session_id) == (own.label, "S1", "")
    fields = AssessorFields(procstatus="NEED_TO_RUN", note="sent back")
    await xnat.update_assessor(task.session_id, task.assessor_id, fields)
    (again,) = (await xnat.project_snapshot("SUBJ", subject_assessors=True)).subject_assessors
    assert again.procstatus == "NEED_TO_RUN"


async def test_a_dax_project_sweeps_without_duplicates(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """DAX assessors with inputs and without: each is its task; where which task cannot be
    told nothing is created; a session DAX never built gets its one task. Two sweeps make no
    second assessor and run no job twice."""
    store = server.store
    store.add_project("DAXP")
    subject = store.add_subject("DAXP", "S1")
    sessions = []
    for n in range(1, 5):
        session = store.add_session(subject, f"S1_MR{n}", date=f"202{n}-01-01")
        for scan_id in ("1", "2") if n == 3 else ("1",):
            scan = store.add_scan(session, scan_id, type="T1", quality="usable")
            store.add_resource(scan.resources, "NIFTI", "NIFTI", files={"t1.nii.gz": b"x"})
        sessions.append(session)
    path = "/projects/DAXP/subjects/S1/experiments/S1_MR1/scans/1"
    fields = {"proctype": "t1_v1", "procversion": "1.0.0", "procstatus": "COMPLETE"}
    with_inputs = "DAXP-x-S1-x-S1_MR1-x-t1_v1-x-aaaa1111"
    store.add_assessor(sessions[0], with_inputs, **fields, inputs=json.dumps({"scan_t1": path}))
    without = "DAXP-x-S1-x-S1_MR2-x-t1_v1-x-bbbb2222"
    store.add_assessor(sessions[1], without, **fields)
    ambiguous = "DAXP-x-S1-x-S1_MR3-x-t1_v1-x-cccc3333"
    store.add_assessor(sessions[2], ambiguous, **fields)
    proc = _processor(tmp_path / "procs", "t1_v1.0.0.yaml", T1)
    for _ in range(2):
        await _sweep(xnat, "DAXP", [proc], tmp_path / "work")
    labels = sorted(a.label for a in store.assessors_of("DAXP"))
    (new,) = [label for label in labels if "-x-S1_MR4-x-" in label]
    assert labels == sorted([with_inputs, without, ambiguous, new])
    runs = (tmp_path / "work" / "runs.log").read_text().split()
    assert runs == [new]
