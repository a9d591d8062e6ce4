"""
When an input's scan or assessor may be used (pure): DAX's rules, with its intent where the
code DAX 2.21 runs crashes.

A scan is checked only with `needs_qc`: `unusable` blocks it, and with `require_usable` as well
any quality but `usable` (`require_usable` alone does nothing, as in DAX). An assessor is always
checked: a task that is not finished (NEED_TO_RUN, NEED_INPUTS, JOB_RUNNING, JOB_FAILED,
UPLOADING) or whose QC is Job Pending, Rerun or Reproc blocks it; with `needs_qc` also a QC of
Needs QA or Failed-needs reprocessing ("needs QC") and one whose first word is failed, bad or
poor, or that says Do Not Run ("bad QC"). An assessor with no status, or NO_DATA, passes, as
in DAX: what it lacks then shows as a missing resource.

DAX 2.21 raises NameError on every `needs_qc: true` assessor input (a name it never imports)
and lets "Do Not Run" through (it compares the whole phrase with the first word): aspider
follows the lists DAX defines instead.
"""

from __future__ import annotations

from aspider.plan.states import ProcStatus, QcStatus, normalise_procstatus
from xnat_client.models import Assessor

NOT_READY = frozenset(
    {
        ProcStatus.NEED_TO_RUN,
        ProcStatus.NEED_INPUTS,
        ProcStatus.JOB_RUNNING,
        ProcStatus.JOB_FAILED,
        ProcStatus.UPLOADING,
    }
)
QC_NOT_READY = frozenset({QcStatus.JOB_PENDING, QcStatus.RERUN, QcStatus.REPROC})
QC_NEEDS_QC = frozenset({QcStatus.NEEDS_QA, QcStatus.FAILED_NEEDS_REPROC})
_BAD_FIRST_WORDS = ("failed", "bad", "poor")


def scan_blocker(quality: str, *, needs_qc: bool, require_usable: bool) -> str:
    """Why a scan of this quality cannot be used ("" when it can)."""
    if not needs_qc:
        return ""
    text = quality.lower()
    if text == "unusable":
        return "quality is unusable"
    if require_usable and text != "usable":
        return f"quality is {quality or 'not set'}, not usable"
    return ""


def assessor_blocker(assessor: Assessor, *, needs_qc: bool) -> str:
    """Why an upstream assessor cannot be used yet ("" when it can)."""
    status = normalise_procstatus(assessor.procstatus)
    qc = assessor.qcstatus
    if status in NOT_READY or (status is None and assessor.procstatus.strip()):
        return f"{assessor.proctype} is {assessor.procstatus}"
    if qc in QC_NOT_READY:
        return f"QC {qc}"
    if needs_qc and (qc in QC_NEEDS_QC or _bad_qc(qc)):
        return f"QC {qc}"
    return ""


def _bad_qc(qc: str) -> bool:
    words = qc.split(" ")
    first = words[0].lower() if words else ""
    return any(bad in first for bad in _BAD_FIRST_WORDS) or qc == QcStatus.DO_NOT_RUN
