"""pyxnat, unpatched and in its own venv, against the server over HTTP and HTTPS."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from aspider.plan import ProcStatus
from aspider.run.records.workflow_history import Step, entry
from tests.conformance.conftest import run_client
from xnat_client import Credentials, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio

_ADMIN = Credentials.password("admin", "admin")


async def test_pyxnat_walks_writes_moves_files_and_searches(
    client_pythons: dict[str, Path], serve: Any, tmp_path: Path
) -> None:
    """pyxnat's common calls, select().where() included, see the archive the store holds."""
    server = XnatServer()
    generate_project(server, "DEMO", sessions=4, seed=5)
    async with serve(server) as served:
        seen = await run_client(
            client_pythons["pyxnat"],
            "pyxnat_walk.py",
            served,
            "admin",
            "admin",
            "DEMO",
            str(tmp_path),
        )
    demo = server.store.projects["DEMO"]
    subject = server.store.subjects[min(demo.subjects)]
    sessions = sorted(s.id for s in demo.sessions.values() if s.subject_id == subject.id)
    session = server.store.experiments[sessions[0]]
    assert seen["projects"] == ["DEMO"]
    assert seen["subjects"] == sorted(demo.subjects)
    assert seen["subject_gender"] == subject.fields["demographics/gender"]
    assert seen["experiments"] == sessions
    assert (seen["session_id"], seen["session_type"]) == (session.id, "xnat:mrSessionData")
    assert seen["session_date"] == session.date
    root = ET.fromstring(seen["xml"].strip())
    assert root.tag == "{http://nrg.wustl.edu/xnat}MRSession"
    assert (root.get("ID"), root.get("label"), root.get("modality")) == (
        session.id,
        session.label,
        "MR",
    )
    assert seen["scans"] == sorted(session.scans, key=int)
    assert seen["scan_type"] == session.scans["1"].type
    assert seen["scan_resources"] == sorted(r.id for r in session.scans["1"].resources.values())
    assert seen["files"] == ["T1w.nii.gz"]
    assert seen["downloaded_size"] == len(session.scans["1"].resources["NIFTI"].files["T1w.nii.gz"])
    assert seen["existed"] is False
    created = next(a for a in session.assessors.values() if a.label == "pyxnat_proc")
    assert seen["assessors"] == sorted(a.id for a in session.assessors.values() if a is not created)
    assert seen["procstatus"] == created.fields["procstatus"] == "JOB_RUNNING"
    assert seen["outputs"] == [created.out["LOG"].id]
    assert seen["downloaded"] == "hello from pyxnat"
    assert seen["search"] == sorted(s.label for s in demo.sessions.values())
    with_dwi = {
        s.label for s in demo.sessions.values() for sc in s.scans.values() if sc.type == "DWI"
    }
    assert 0 < len(with_dwi) < len(demo.sessions)  # seed 5: the search has something to leave out
    assert seen["dwi_search"] == sorted(with_dwi)
    everyone = sorted(demo.sessions.values(), key=lambda s: s.id)
    labels = {s.id: s.label for s in demo.subjects.values()}
    assert seen["array_experiments"] == [[s.id, labels[s.subject_id]] for s in everyone]
    assert seen["array_mrscans"] == sorted(
        [s.id, sc.id] for s in everyone for sc in s.scans.values()
    )
    assert seen["path_select"] == [s.id for s in everyone]
    assert "proc:genProcData" in seen["datatypes"]


async def test_pyxnat_reads_the_history_aspider_wrote_and_writes_an_entry_of_its_own(
    client_pythons: dict[str, Path], serve: Any
) -> None:
    """pyxnat lists a task's workflow entries as its Pipeline.status does; ours reads its PUT."""
    server = XnatServer()
    generate_project(server, "DEMO", sessions=1, assessors_per_session=1, seed=5)
    assessor = next(server.store.assessors_of("DEMO"))
    steps = [
        (Step.SUBMITTED, ProcStatus.JOB_RUNNING, "42"),
        (Step.RUNNING, ProcStatus.JOB_RUNNING, "42"),
        (Step.FAILED, ProcStatus.JOB_FAILED, "42"),
    ]
    async with serve(server) as served:
        async with XnatClient(served.url, credentials=_ADMIN, ca_bundle=served.ca_file) as xnat:
            for step, status, job in steps:
                note = "job 42 exited with code 3" if step is Step.FAILED else ""
                written = entry("fs7_v1", "DEMO", assessor.id, step, status, note=note, job_id=job)
                await xnat.add_workflow(written)
        seen = await run_client(
            client_pythons["pyxnat"],
            "pyxnat_workflows.py",
            served,
            "admin",
            "admin",
            "DEMO",
            "fs7_v1",
            assessor.id,
        )
        async with XnatClient(served.url, credentials=_ADMIN, ca_bundle=served.ca_file) as xnat:
            after = await xnat.list_workflows("fs7_v1", assessor.id)
    assert seen["entries"] == [
        ["Queued", "JOB_RUNNING", "submitted as job 42"],
        ["Running", "JOB_RUNNING", "job 42 running"],
        ["Failed", "JOB_FAILED", "failed: job 42 exited with code 3"],
    ]
    assert seen["latest"] == "Failed"
    assert seen["put_status"] == 200
    assert after[-1].status == "Complete"
    assert after[-1].step_description == "checked by hand in pyxnat"
    assert len(after) == 4
