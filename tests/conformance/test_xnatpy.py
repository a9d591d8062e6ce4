"""xnatpy (PyPI `xnat`), unpatched, against the server: connect, walk, download, write, query."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conformance.conftest import run_client
from xnat_client.sandbox import StoredSession, XnatServer, generate_project

pytestmark = pytest.mark.anyio


async def test_xnatpy_connects_walks_downloads_writes_and_queries(
    client_pythons: dict[str, Path], serve: Any, tmp_path: Path
) -> None:
    """xnatpy builds its model from /xapi/schemas and sees the archive as the store holds it."""
    server = XnatServer()
    generate_project(server, "DEMO", sessions=4, seed=3)
    work = tmp_path / "work"
    work.mkdir()
    async with serve(server) as served:
        seen = await run_client(
            client_pythons["xnatpy"], "xnatpy_walk.py", served, "admin", "admin", "DEMO", str(work)
        )
    demo = server.store.projects["DEMO"]
    subject = min(demo.subjects.values(), key=lambda s: s.label)
    sessions = sorted(
        (s for s in demo.sessions.values() if s.subject_id == subject.id), key=lambda s: s.label
    )
    session = sessions[0]
    assessor = min(session.assessors.values(), key=lambda a: a.label)
    assert seen["projects"] == ["DEMO"]
    assert seen["project_name"] == demo.name
    assert seen["subjects"] == sorted(
        s.label for s in demo.subjects.values() if s.label != "XPY_SUBJECT"
    )
    assert seen["subject_gender"] == subject.fields["demographics/gender"]
    assert seen["experiments"] == [s.label for s in sessions]
    assert (seen["experiment_type"], seen["experiment_modality"]) == ("xnat:mrSessionData", "MR")
    assert seen["experiment_date"] == session.date
    assert seen["scans"] == sorted(session.scans, key=int)
    assert (seen["scan_type"], seen["scan_quality"]) == (session.scans["1"].type, "usable")
    assert seen["resources"] == ["DICOM", "NIFTI"]
    assert seen["files"] == ["T1w.nii.gz"]
    assert seen["downloaded_size"] == len(session.scans["1"].resources["NIFTI"].files["T1w.nii.gz"])
    assert seen["resource_zip"] == [f"{session.label}/scans/1-T1w/resources/NIFTI/files/T1w.nii.gz"]
    every_file = sum(len(r.files) for sc in session.scans.values() for r in sc.resources.values())
    assert seen["session_zip_files"] == every_file
    assert seen["assessors"] == sorted(a.label for a in session.assessors.values())
    assert seen["assessor_type"] == "proc:genProcData"
    assert seen["assessor_procstatus"] == assessor.fields["procstatus"]
    assert seen["assessor_outputs"] == sorted(assessor.resources)
    assert (seen["field_back"], seen["qc_back"]) == ("xnatpy", "Passed")
    assert assessor.fields["validation/status"] == "Passed"
    created = server.store.find_experiment("DEMO", "XPY_SESSION")
    assert isinstance(created, StoredSession)
    assert created.xsi_type == "xnat:mrSessionData"
    assert server.store.subjects[created.subject_id].label == "XPY_SUBJECT"
    stored = created.scans["7"].resources["NIFTI"].files
    assert stored == {"sub/upload.nii.gz": b"uploaded by xnatpy"}
    assert seen["created"] == {"scan_type": "T2w", "files": ["sub/upload.nii.gz"]}
    assert seen["query"] == sorted(s.label for s in demo.sessions.values())  # the new one too
