"""
What a user does with xnatpy, run by the xnatpy venv: connect, walk the archive, download,
write an assessor's custom field and QC status, create a subject, session and scan and upload a
file, query. Prints what xnatpy saw as JSON.

Usage: python xnatpy_walk.py URL USER PASSWORD PROJECT WORKDIR
"""

import json
import os
import sys
from pathlib import Path

import xnat


def walk(url: str, user: str, password: str, project_id: str, work: Path) -> dict:
    seen: dict = {}
    with xnat.connect(url, user=user, password=password, loglevel="ERROR") as session:
        seen["projects"] = sorted(session.projects.keys())
        project = session.projects[project_id]
        seen["project_name"] = project.name
        subjects = project.subjects
        seen["subjects"] = sorted(s.label for s in subjects.values())
        subject = subjects[seen["subjects"][0]]
        seen["subject_gender"] = subject.demographics.gender
        experiments = subject.experiments
        seen["experiments"] = sorted(e.label for e in experiments.values())
        experiment = experiments[seen["experiments"][0]]
        seen["experiment_type"] = experiment.__xsi_type__
        seen["experiment_modality"] = experiment.modality
        seen["experiment_date"] = str(experiment.date)
        scans = experiment.scans
        seen["scans"] = sorted(scans.keys(), key=int)
        scan = scans["1"]
        seen["scan_type"] = scan.type
        seen["scan_quality"] = scan.quality
        seen["resources"] = sorted(r.label for r in scan.resources.values())
        resource = scan.resources["NIFTI"]
        seen["files"] = sorted(resource.files.keys())
        name = seen["files"][0]
        target = work / "one" / name
        target.parent.mkdir(parents=True)
        resource.files[name].download(str(target), verbose=False)
        seen["downloaded_size"] = target.stat().st_size
        resource.download_dir(str(work / "resource"), verbose=False)
        seen["resource_zip"] = sorted(
            str(p.relative_to(work / "resource"))
            for p in (work / "resource").rglob("*")
            if p.is_file()
        )
        experiment.download_dir(str(work / "session"), verbose=False)
        seen["session_zip_files"] = len([p for p in (work / "session").rglob("*") if p.is_file()])
        seen["assessors"] = sorted(a.label for a in experiment.assessors.values())
        assessor = experiment.assessors[seen["assessors"][0]]
        seen["assessor_type"] = assessor.__xsi_type__
        seen["assessor_procstatus"] = assessor.procstatus
        seen["assessor_qc"] = assessor.validation.status
        seen["assessor_outputs"] = sorted(r.label for r in assessor.resources.values())
        assessor.fields["reviewer"] = "xnatpy"
        assessor.validation.status = "Passed"
        assessor.clearcache()
        seen["field_back"] = assessor.fields["reviewer"]
        seen["qc_back"] = assessor.validation.status
        new_subject = session.classes.SubjectData(parent=project, label="XPY_SUBJECT")
        new_session = session.classes.MrSessionData(parent=new_subject, label="XPY_SESSION")
        new_scan = session.classes.MrScanData(parent=new_session, id="7", type="T2w")
        folder = session.classes.ResourceCatalog(parent=new_scan, label="NIFTI", format="NIFTI")
        source = work / "upload.nii.gz"
        source.write_bytes(b"uploaded by xnatpy")
        folder.upload(str(source), "sub/upload.nii.gz")
        project.clearcache()
        again = project.subjects["XPY_SUBJECT"].experiments["XPY_SESSION"]
        seen["created"] = {
            "scan_type": again.scans["7"].type,
            "files": sorted(again.scans["7"].resources["NIFTI"].files.keys()),
        }
        mr = session.classes.MrSessionData
        found = mr.query().filter(mr.project == project_id).all()
        seen["query"] = sorted(e.label for e in found)
    return seen


if __name__ == "__main__":
    url, user, password, project, work = sys.argv[1:6]
    os.chdir(work)
    print(json.dumps(walk(url, user, password, project, Path(work))))
