"""
A seedable synthetic XNAT project: subjects, MR sessions with a realistic scan mix, NIFTI and
DICOM resources holding tiny files, and `proc:genProcData` assessors in every procstatus.

Built for scale (a benchmark asks for 10,000 sessions x 6 scans and 30,000 assessors): file
contents are a handful of shared `bytes` objects, and everything else is plain slotted objects.
The same seed into an empty store gives the same project, IDs included.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from xnat_client.sandbox._app import XnatServer
from xnat_client.sandbox._store import Store, StoredProject, StoredSession, StoredSubject, timestamp
from xnat_client.sandbox._xml import escape_xml

PROCSTATUSES = (
    "NEED_TO_RUN",
    "NEED_INPUTS",
    "JOB_RUNNING",
    "JOB_FAILED",
    "READY_TO_UPLOAD",
    "UPLOADING",
    "READY_TO_COMPLETE",
    "COMPLETE",
    "NO_DATA",
    "JOB_BUILT",
)


@dataclass(frozen=True, slots=True)
class ScanKind:
    type: str
    series_description: str
    frames: int


# The first kind is in every session; the others are drawn per session.
SCAN_KINDS = (
    ScanKind("T1w", "T1w_MPRAGE_sag_1mm", 176),
    ScanKind("MPRAGE", "MPRAGE_GRAPPA2", 176),
    ScanKind("FLAIR", "T2_FLAIR_sag_p2", 176),
    ScanKind("DWI", "dMRI_dir98_AP", 99),
    ScanKind("rsfMRI", "rfMRI_REST_AP", 420),
    ScanKind("fMRI_task_nback", "tfMRI_NBACK_PA", 300),
    ScanKind("T2w", "T2w_SPC_sag_0.8mm", 208),
    ScanKind("fieldmap", "SpinEchoFieldMap_AP", 3),
)
PROCTYPES = ("fs7_v1", "dwi_preproc_v1", "fmri_conn_v2", "flair_lesion_v1")


def _nifti_bytes() -> bytes:
    """A valid gzipped NIfTI-1 image, 2x2x2 uint8, so pipelines can open what they download."""
    header = bytearray(348)
    struct.pack_into("<i", header, 0, 348)
    struct.pack_into("<8h", header, 40, 3, 2, 2, 2, 1, 1, 1, 1)
    struct.pack_into("<hh", header, 70, 2, 8)  # datatype uint8, bitpix 8
    struct.pack_into("<8f", header, 76, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    struct.pack_into("<f", header, 108, 352.0)  # vox_offset
    struct.pack_into("<f", header, 112, 1.0)  # scl_slope
    header[344:348] = b"n+1\0"
    return gzip.compress(bytes(header) + b"\0" * 4 + bytes(range(8)), mtime=0)


NIFTI = _nifti_bytes()
DICOM = b"\0" * 128 + b"DICM" + b"synthetic"
BVAL = b"0 1000 1000 1000\n"
BVEC = b"0 1 0 0\n0 0 1 0\n0 0 0 1\n"
STATS = b"measure,value\nvolume,1234.5\n"
PDF = b"%PDF-1.4\n% synthetic report\n%%EOF\n"


def generate_project(
    target: XnatServer | Store,
    project: str = "DEMO",
    subjects: int | None = None,
    sessions: int = 20,
    scans_per_session: int = 6,
    assessors_per_session: int = 3,
    seed: int = 0,
    scan_types: Sequence[str] | None = None,
) -> StoredProject:
    """Add a synthetic project to a server's (or a bare) store and return it.

    Args:
        subjects: how many subjects share the sessions; by default two sessions each.
        sessions: total MR sessions, spread round-robin over the subjects.
        scans_per_session: at most the number of scan types; the first type is in every
            session, the others are drawn per session.
        assessors_per_session: proc:genProcData assessors per session, procstatus cycling
            through every value so that any 10 consecutive assessors cover them all.
        scan_types: the scan types to draw from (SCAN_KINDS' types by default, T1w first); a
            type SCAN_KINDS does not know gets its own name as series description.
    """
    store = target.store if isinstance(target, XnatServer) else target
    rng = random.Random(seed)
    kinds = _kinds(scan_types)
    proj = store.add_project(project, f"Synthetic project {project}", "Generated for tests")
    count = subjects if subjects is not None else max(1, math.ceil(sessions / 2))
    base = dt.datetime(2020, 1, 1, 8, 0, 0)
    people = [
        store.add_subject(
            project,
            f"{project}_S{i + 1:05d}",
            insert_date=timestamp(base),
            **_demographics(seed, i),
        )
        for i in range(count)
    ]
    visits = [0] * count
    for n in range(sessions):
        who = n % count
        visits[who] += 1
        when = base + dt.timedelta(days=rng.randrange(0, 1500), minutes=n)
        session = _session(store, people[who], visits[who], when)
        _scans(store, session, rng, kinds, min(scans_per_session, len(kinds)))
        _assessors(
            store, session, people[who], rng, n * assessors_per_session, assessors_per_session
        )
    return proj


def _kinds(types: Sequence[str] | None) -> tuple[ScanKind, ...]:
    if types is None:
        return SCAN_KINDS
    known = {k.type: k for k in SCAN_KINDS}
    if not types:
        raise ValueError("scan_types needs at least one type")
    return tuple(known.get(t) or ScanKind(t, t, 1) for t in types)


def _demographics(seed: int, number: int) -> dict[str, str]:
    """A subject's demographics, drawn from their own generator so that adding them left every
    other drawn value (scans, dates, QC) of a seed as it was."""
    rng = random.Random(seed * 1_000_003 + number)
    return {
        "demographics/gender": rng.choice(("male", "female")),
        "demographics/handedness": rng.choice(("right", "right", "right", "left")),
        "demographics/yob": str(rng.randrange(1940, 2005)),
        "src": "synthetic",
    }


def _session(store: Store, subject: StoredSubject, visit: int, when: dt.datetime) -> StoredSession:
    return store.add_session(
        subject,
        f"{subject.label}_MR{visit}",
        "xnat:mrSessionData",
        date=when.strftime("%Y-%m-%d"),
        insert_date=timestamp(when),
        modality="MR",
        scanner="SYNTH3T",
    )


def _scans(
    store: Store, session: StoredSession, rng: random.Random, kinds: Sequence[ScanKind], count: int
) -> None:
    drawn = [kinds[0], *rng.sample(kinds[1:], count - 1)] if count else []
    for number, kind in enumerate(drawn, start=1):
        quality = rng.choices(("usable", "questionable", "unusable"), (90, 7, 3))[0]
        scan = store.add_scan(
            session,
            str(number),
            type=kind.type,
            series_description=kind.series_description,
            quality=quality,
            frames=str(kind.frames),
            uid=f"1.2.826.0.1.3680043.2.1125.{session.id[-5:]}.{number}",
        )
        store.add_resource(
            scan.resources, "DICOM", "DICOM", "RAW", {"1.dcm": DICOM, "2.dcm": DICOM}
        )
        nifti = {f"{kind.type}.nii.gz": NIFTI}
        if kind.type == "DWI":
            nifti.update({"DWI.bval": BVAL, "DWI.bvec": BVEC})
        store.add_resource(scan.resources, "NIFTI", "NIFTI", "RAW", nifti)


def _assessors(
    store: Store,
    session: StoredSession,
    subject: StoredSubject,
    rng: random.Random,
    first: int,
    count: int,
) -> None:
    for k in range(count):
        proctype = PROCTYPES[k % len(PROCTYPES)]
        status = PROCSTATUSES[(first + k) % len(PROCSTATUSES)]
        label = f"{session.project}-x-{subject.label}-x-{session.label}-x-{proctype}"
        if k >= len(PROCTYPES):
            label += f"-x-{k}"
        inputs = {"scan_t1": f"/data/experiments/{session.id}/scans/1"}
        fields = {
            "proctype": proctype,
            "procversion": "1.0.0",
            "procstatus": status,
            "validation/status": _qc(status, rng),
            "inputs": escape_xml(json.dumps(inputs)),
        }
        if status in ("JOB_RUNNING", "JOB_FAILED", "READY_TO_UPLOAD", "COMPLETE"):
            fields.update(jobid=str(100000 + first + k), jobnode="node01")
            fields.update(jobstartdate=session.date, memused="2048", walltimeused="01:02:03")
        assessor = store.add_assessor(
            session, label, date=session.date, insert_date=session.insert_date, **fields
        )
        if status == "COMPLETE":
            store.add_resource(assessor.out, "STATS", "CSV", files={"stats.csv": STATS})
            store.add_resource(assessor.out, "PDF", "PDF", files={"report.pdf": PDF})


def _qc(status: str, rng: random.Random) -> str:
    if status != "COMPLETE":
        return "Job Pending"
    return rng.choice(("Needs QA", "Passed", "Failed", "Needs QA"))
