"""
The sandbox project both DAX and aspider are run on: what our processor files (`processors/`)
need to match, and the cases where they differ in what they decide.

Project DAXP, subject S1:

- S1_MR1 (MR, 2020-01-01, session type Baseline): scan 1 T1 usable (NIFTI with one image,
  JSON with two sidecars, DICOM with a subfolder), scan 2 MPRAGE_sag questionable, scan 3 DWI
  with two files in NIFTI (a FILE input without fmatch: "multiple files"), scan 4 rest_bold
  questionable (require_usable), and a COMPLETE fsup_v1 assessor as DAX made it (inputs, QC
  Passed, SUBJ/STATS/PDF resources with subfolders);
- S1_PET1 (PET, 2020-02-01, tracer FDG): scan 5 PET_AC, offered to S1_MR1's `petscans`;
- S1_MR2 (MR, 2021-01-01, Followup): a T1, and an anat_v1 assessor DAX made before assessors
  had `inputs` (DAX builds nothing over it; aspider takes it as the one task it is).

Sessions are created oldest first: `dax build` orders a subject's sessions by creation time.
"""

from __future__ import annotations

import json

from xnat_client.sandbox import XnatServer

PROJECT, SUBJECT = "DAXP", "S1"
USER = ("dax", "dax-pw")
IMAGE = b"not really an image\n"


def _path(session: str, tail: str) -> str:
    return f"/projects/{PROJECT}/subjects/{SUBJECT}/experiments/{session}/{tail}"


def _made(n: int) -> str:
    """Creation times in the order sessions were made (DAX orders a subject's sessions so)."""
    return f"2024-01-0{n} 12:00:00.0"


def seed(server: XnatServer) -> None:
    """The sandbox, into an empty server."""
    store = server.store
    store.add_project(PROJECT, PROJECT)
    subject = store.add_subject(PROJECT, SUBJECT)
    mr1 = store.add_session(
        subject, "S1_MR1", date="2020-01-01", session_type="Baseline", insert_date=_made(1)
    )
    t1 = store.add_scan(mr1, "1", type="T1", quality="usable")
    store.add_resource(t1.resources, "NIFTI", "NIFTI", files={"t1.nii.gz": IMAGE})
    store.add_resource(t1.resources, "JSON", "JSON", files={"a.json": b"{}", "b.json": b"{}"})
    dicom = {"1.dcm": b"d1", "sub/2.dcm": b"d2"}
    store.add_resource(t1.resources, "DICOM", "DICOM", files=dicom)
    mprage = store.add_scan(mr1, "2", type="MPRAGE_sag", quality="questionable")
    store.add_resource(mprage.resources, "NIFTI", "NIFTI", files={"m.nii.gz": IMAGE})
    store.add_resource(mprage.resources, "JSON", "JSON", files={"m.json": b"{}"})
    dwi = store.add_scan(mr1, "3", type="DWI", quality="usable")
    two = {"dwi.nii.gz": IMAGE, "dwi.bval": b"0 1000\n"}
    store.add_resource(dwi.resources, "NIFTI", "NIFTI", files=two)
    bold = store.add_scan(mr1, "4", type="rest_bold", quality="questionable")
    store.add_resource(bold.resources, "NIFTI", "NIFTI", files={"bold.nii.gz": IMAGE})
    upstream = store.add_assessor(
        mr1,
        f"{PROJECT}-x-{SUBJECT}-x-S1_MR1-x-fsup_v1-x-0a1b2c3d",
        proctype="fsup_v1",
        procversion="1.0.0",
        procstatus="COMPLETE",
        **{"validation/status": "Passed"},
        inputs=json.dumps({"scan_t1": _path("S1_MR1", "scans/1")}),
    )
    store.add_resource(upstream.out, "SUBJ", files={"mri/orig.mgz": b"o", "surf/lh.white": b"w"})
    store.add_resource(upstream.out, "STATS", files={"aseg.stats": b"a", "sub/lh.stats": b"l"})
    store.add_resource(upstream.out, "PDF", files={"report.pdf": b"%PDF"})
    pet = store.add_session(
        subject,
        "S1_PET1",
        "xnat:petSessionData",
        date="2020-02-01",
        insert_date=_made(2),
        **{"tracer/name": "FDG"},
    )
    pet_scan = store.add_scan(
        pet, "5", type="PET_AC", quality="usable", xsi_type="xnat:petScanData"
    )
    store.add_resource(pet_scan.resources, "NIFTI", "NIFTI", files={"pet.nii.gz": IMAGE})
    mr2 = store.add_session(
        subject, "S1_MR2", date="2021-01-01", session_type="Followup", insert_date=_made(3)
    )
    t1b = store.add_scan(mr2, "1", type="T1", quality="usable")
    store.add_resource(t1b.resources, "NIFTI", "NIFTI", files={"t1.nii.gz": IMAGE})
    store.add_resource(t1b.resources, "JSON", "JSON", files={"a.json": b"{}"})
    store.add_assessor(
        mr2,
        f"{PROJECT}-x-{SUBJECT}-x-S1_MR2-x-anat_v1-x-99887766",
        proctype="anat_v1",
        procversion="1.0.0",
        procstatus="COMPLETE",
        **{"validation/status": "Passed"},
    )


# Processor files run together by one `dax build`, and those run alone: DAX 2.21 raises on
# them, which skips whatever else the session had left to build.
TOGETHER = (
    "anat_v1.0.0.yaml",
    "multi_v1.0.0.yaml",
    "fsdown_v1.0.0.yaml",
    "usable_v1.0.0.yaml",
    "pet_v1.0.0.yaml",
    "dirscan_v1.0.0.yaml",
)
ALONE = ("qcgate_v1.0.0.yaml",)
SUBJECT_LEVEL = ("long_v1.0.0.yaml",)  # DAX 2.21's `dax build` raises for every one of them
