"""
What a user does with pyxnat, run by the pyxnat venv: walk the archive, read attributes and the
XML document, create and update an assessor, upload and download, search with
select().where(), list with `array` and select by path. Prints what pyxnat saw as JSON.

Usage: python pyxnat_walk.py URL USER PASSWORD PROJECT WORKDIR
"""

import json
import sys
from pathlib import Path

from pyxnat import Interface


def walk(url: str, user: str, password: str, project_id: str, work: Path) -> dict:
    seen: dict = {}
    intf = Interface(server=url, user=user, password=password)
    seen["projects"] = intf.select.projects().get()
    project = intf.select.project(project_id)
    seen["subjects"] = sorted(project.subjects().get())
    subject = project.subject(seen["subjects"][0])
    seen["subject_gender"] = subject.attrs.get("gender")
    seen["experiments"] = sorted(subject.experiments().get())
    session = subject.experiment(seen["experiments"][0])
    seen["session_id"] = session.id()
    seen["session_type"] = session.datatype()
    seen["session_date"] = session.attrs.get("date")
    document = session.get()
    seen["xml"] = document.decode() if isinstance(document, bytes) else document
    seen["scans"] = sorted(session.scans().get(), key=int)
    scan = session.scan("1")
    seen["scan_type"] = scan.attrs.get("type")
    seen["scan_resources"] = sorted(scan.resources().get())
    seen["files"] = scan.resource("NIFTI").files().get()
    target = work / "nifti.nii.gz"
    scan.resource("NIFTI").file(seen["files"][0]).get(str(target))
    seen["downloaded_size"] = target.stat().st_size
    seen["assessors"] = sorted(session.assessors().get())
    assessor = session.assessor("pyxnat_proc")
    seen["existed"] = assessor.exists()
    assessor.create(
        assessors="proc:genProcData",
        **{"proc:genProcData/procstatus": "NEED_INPUTS", "proc:genProcData/proctype": "demo_v1"},
    )
    assessor.attrs.set("proc:genProcData/procstatus", "JOB_RUNNING")
    seen["procstatus"] = assessor.attrs.get("proc:genProcData/procstatus")
    source = work / "hello.txt"
    source.write_text("hello from pyxnat")
    assessor.out_resource("LOG").file("hello.txt").put(str(source))
    seen["outputs"] = assessor.out_resources().get()
    back = work / "back.txt"
    assessor.out_resource("LOG").file("hello.txt").get(str(back))
    seen["downloaded"] = back.read_text()
    table = intf.select(
        "xnat:mrSessionData", ["xnat:mrSessionData/SESSION_ID", "xnat:mrSessionData/LABEL"]
    ).where([("xnat:mrSessionData/PROJECT", "=", project_id), "AND"])
    seen["search"] = sorted(row["label"] for row in table)
    scans = intf.select(
        "xnat:mrSessionData", ["xnat:mrSessionData/LABEL", "xnat:mrScanData/TYPE"]
    ).where([("xnat:mrScanData/TYPE", "=", "DWI"), "AND"])
    seen["dwi_search"] = sorted(row["label"] for row in scans)
    seen["array_experiments"] = sorted(
        (row["ID"], row["subject_label"])
        for row in intf.array.experiments(project_id=project_id, columns=["subject_label"]).data
    )
    seen["array_mrscans"] = sorted(
        (row["ID"], row["xnat:mrscandata/id"])
        for row in intf.array.mrscans(project_id=project_id).data
    )
    paths = intf.select(f"/project/{project_id}/subjects/*/experiments/*")
    seen["path_select"] = sorted(e.id() for e in paths)
    seen["datatypes"] = intf.inspect.datatypes()
    intf.disconnect()
    return seen


if __name__ == "__main__":
    url, user, password, project, work = sys.argv[1:6]
    print(json.dumps(walk(url, user, password, project, Path(work))))
