"""pyxnat, a client we did not write, against the server over real HTTP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from xnat_client.sandbox import XnatServer, generate_project, serve_tcp

pytestmark = [
    pytest.mark.anyio,
    # pyxnat and pandas raise their own deprecation warnings on import and use
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]


def _walk(url: str, tmp: Path) -> dict[str, Any]:
    """Everything a pyxnat user does in one session; returns what pyxnat saw."""
    from pyxnat import Interface

    intf = Interface(server=url, user="admin", password="admin")
    seen: dict[str, Any] = {"projects": intf.select.projects().get()}
    project = intf.select.project("DEMO")
    seen["subjects"] = project.subjects().get()
    subject = project.subject(seen["subjects"][0])
    seen["experiments"] = subject.experiments().get()
    session = subject.experiment(seen["experiments"][0])
    seen["session_label"] = session.label()
    seen["session_type"] = session.datatype()
    seen["scans"] = session.scans().get()
    scan = session.scan("1")
    seen["scan_type"] = scan.attrs.get("type")
    seen["resources"] = scan.resources().get()
    seen["files"] = scan.resource("NIFTI").files().get()
    assessor = session.assessor("pyx_proc1")
    seen["existed"] = assessor.exists()
    assessor.create(
        assessors="proc:genProcData",
        **{"proc:genProcData/procstatus": "NEED_INPUTS", "proc:genProcData/proctype": "demo_v1"},
    )
    seen["created_status"] = assessor.attrs.get("proc:genProcData/procstatus")
    assessor.attrs.set("proc:genProcData/procstatus", "JOB_RUNNING")
    seen["updated_status"] = assessor.attrs.get("proc:genProcData/procstatus")
    seen["proctype"] = assessor.attrs.get("proc:genProcData/proctype")
    source = tmp / "hello.txt"
    source.write_text("hello from pyxnat")
    scan.resource("UP").file("hello.txt").put(str(source))
    seen["uploaded"] = scan.resource("UP").files().get()
    target = tmp / "back.txt"
    scan.resource("UP").file("hello.txt").get(str(target))
    seen["downloaded"] = target.read_text()
    seen["datatypes"] = intf.inspect.datatypes()
    intf.disconnect()
    return seen


async def test_pyxnat_lists_creates_assessor_and_moves_files(tmp_path: Path) -> None:
    """pyxnat lists the hierarchy, writes and reads assessor fields, and uploads/downloads."""
    server = XnatServer()
    generate_project(server, "DEMO", sessions=4, seed=3)
    async with serve_tcp(server) as url:
        with anyio.fail_after(60):
            seen = await anyio.to_thread.run_sync(_walk, url, tmp_path)
    demo = server.store.projects["DEMO"]
    first_subject = min(demo.subjects)
    assert seen["projects"] == ["DEMO"]
    assert seen["subjects"] == sorted(demo.subjects)
    expected_sessions = [s.id for s in demo.sessions.values() if s.subject_id == first_subject]
    assert seen["experiments"] == expected_sessions
    session = server.store.experiments[expected_sessions[0]]
    assert seen["session_label"] == session.label
    assert seen["session_type"] == "xnat:mrSessionData"
    assert seen["scans"] == ["1", "2", "3", "4", "5", "6"]
    assert seen["scan_type"] == "T1w"
    folders = session.scans["1"].resources
    assert seen["resources"] == [folders["DICOM"].id, folders["NIFTI"].id]
    assert seen["files"] == ["T1w.nii.gz"]
    assert seen["existed"] is False
    assert (seen["created_status"], seen["updated_status"]) == ("NEED_INPUTS", "JOB_RUNNING")
    assert seen["proctype"] == "demo_v1"
    assert seen["uploaded"] == ["hello.txt"]
    assert seen["downloaded"] == "hello from pyxnat"
    assert "proc:genProcData" in seen["datatypes"]
    stored = [a for a in session.assessors.values() if a.label == "pyx_proc1"]
    assert [a.fields["procstatus"] for a in stored] == ["JOB_RUNNING"]
