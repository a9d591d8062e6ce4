"""Hand-built snapshots for matching and planning tests."""

from __future__ import annotations

import json
from typing import Any

from xnat_client import Assessor, ProjectSnapshot, Resource, Scan, Session


def scan(
    scan_id: str,
    scan_type: str,
    *,
    quality: str = "usable",
    resources: dict[str, int] | None = None,
) -> Scan:
    res = {"NIFTI": 1} if resources is None else resources
    return Scan(
        id=scan_id,
        type=scan_type,
        quality=quality,
        resources=tuple(Resource(label=k, file_count=v) for k, v in res.items()),
    )


def assessor(
    label: str,
    proctype: str,
    inputs: dict[str, Any] | None,
    *,
    session: str = "E1",
    procstatus: str = "COMPLETE",
    qcstatus: str = "Passed",
    resources: tuple[str, ...] = (),
    jobid: str = "",
    note: str = "",
    project: str = "P",
) -> Assessor:
    return Assessor(
        id=f"A_{label}",
        label=label,
        project=project,
        session_id=session,
        proctype=proctype,
        procversion="1.0.0",
        procstatus=procstatus,
        qcstatus=qcstatus,
        inputs=inputs,
        inputs_raw=json.dumps(inputs) if inputs else "",
        resources=resources,
        jobid=jobid,
        note=note,
    )


def session(
    session_id: str = "E1",
    label: str = "SESS1",
    *,
    scans: tuple[Scan, ...] = (),
    assessors: tuple[Assessor, ...] = (),
    subject: str = "SUBJ1",
    date: str = "2024-01-01",
    project: str = "P",
    xsi_type: str = "xnat:mrSessionData",
) -> Session:
    return Session(
        id=session_id,
        label=label,
        project=project,
        subject_id=f"S_{subject}",
        subject_label=subject,
        date=date,
        xsi_type=xsi_type,
        scans=scans,
        assessors=assessors,
    )


def snapshot(*sessions: Session, project: str = "P") -> ProjectSnapshot:
    return ProjectSnapshot(project=project, sessions=sessions)


def scan_path(scan_id: str, *, subject: str = "SUBJ1", sess: str = "SESS1") -> str:
    return f"/projects/P/subjects/{subject}/experiments/{sess}/scans/{scan_id}"
