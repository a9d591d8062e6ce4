"""
Typed views of what XNAT stores, as the rest of the world sees them.

XNAT's listings give every value as a string, nulls as "", and one row per join; all of that is
undone once, in `_rows.py`, so these models hold plain Python values: `None` for a missing
number, "" for a missing string, tuples for children. They are frozen: a snapshot is a fact about
one moment and is never edited in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

PROC_XSI_TYPE = "proc:genProcData"
SUBJECT_PROC_XSI_TYPE = "proc:subjGenProcData"  # DAX's subject-level assessor


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Project(_Frozen):
    id: str
    name: str = ""
    description: str = ""


class Subject(_Frozen):
    id: str
    label: str
    project: str


class Resource(_Frozen):
    """A folder of files on a scan, session or assessor (XNAT's abstractResource)."""

    label: str
    id: str = ""  # xnat_abstractresource_id; "" when the listing did not say
    format: str = ""
    file_count: int | None = None
    file_size: int | None = None


class FileEntry(_Frozen):
    name: str  # the path relative to its resource, e.g. "sub/dir/file.nii.gz"
    size: int | None
    uri: str
    resource: str = ""  # the resource label (XNAT's "collection")


class Scan(_Frozen):
    id: str
    type: str = ""
    series_description: str = ""
    quality: str = ""
    note: str = ""
    frames: int | None = None
    xsi_type: str = ""
    resources: tuple[Resource, ...] = ()

    def resource(self, label: str) -> Resource | None:
        return next((r for r in self.resources if r.label == label), None)


class Assessor(_Frozen):
    """
    A `proc:genProcData` assessor: the state of record of one processing task. A subject's
    `proc:subjGenProcData` assessor has the same fields, no session (`session_id` ""), and its
    `subject_id`.
    """

    id: str
    label: str
    project: str
    session_id: str
    xsi_type: str = PROC_XSI_TYPE
    subject_id: str = ""
    session_label: str = ""
    proctype: str = ""
    procversion: str = ""
    procstatus: str = ""
    qcstatus: str = ""  # validation/status
    note: str = ""  # the human-readable reason of a blocked or failed task
    inputs: dict[str, Any] | None = None  # parsed `inputs` JSON; None when empty or not JSON
    inputs_raw: str = ""
    jobid: str = ""
    jobnode: str = ""
    jobstartdate: str = ""
    memused: str = ""
    walltimeused: str = ""
    last_modified: str = ""
    resources: tuple[str, ...] = ()  # labels of its output resources (out/file)


class Session(_Frozen):
    """An image session (MR, PET, CT, ...) with its scans and its processing assessors."""

    id: str
    label: str
    project: str
    subject_id: str
    subject_label: str = ""
    xsi_type: str = ""
    date: str = ""
    last_modified: str = ""
    session_type: str = ""  # xnat:imageSessionData/session_type (e.g. a visit name)
    tracer: str = ""  # a PET session's tracer name, when the snapshot was asked to read it
    scans: tuple[Scan, ...] = ()
    assessors: tuple[Assessor, ...] = ()

    def scan(self, scan_id: str) -> Scan | None:
        return next((s for s in self.scans if s.id == scan_id), None)


class ProjectSnapshot(_Frozen):
    """Everything the planner needs about a project, read in a constant number of requests."""

    project: str
    subjects: tuple[Subject, ...] = ()
    sessions: tuple[Session, ...] = ()
    # Subjects' own assessors (proc:subjGenProcData), when the snapshot was asked to read them.
    subject_assessors: tuple[Assessor, ...] = ()
    requests: int = 0  # how many HTTP requests it took to read this snapshot

    def session(self, label: str) -> Session | None:
        return next((s for s in self.sessions if s.label == label), None)

    def every_assessor(self) -> Iterator[tuple[str, Assessor]]:
        """
        (where, assessor) for each session's assessors (where: the session's label), then for
        the subjects' own (where: the subject's label), so that a report misses neither.
        """
        for session in self.sessions:
            for a in session.assessors:
                yield session.label, a
        if self.subject_assessors:
            labels = {s.id: s.label for s in self.subjects}
            for a in self.subject_assessors:
                yield labels.get(a.subject_id, a.subject_id), a


class Workflow(_Frozen):
    """
    A workflow entry (XNAT's `wrk:workflowData`): one step of some processing of an experiment,
    as the History of a session in XNAT's web pages lists it.

    XNAT keeps one entry per (pipeline_name, experiment, scan, launch_time): writing the same
    four again updates the entry. Times are as XNAT stores them, without a time zone.
    """

    experiment_id: str  # ID: the session or assessor the step is about
    pipeline_name: str
    launch_time: datetime
    status: str  # XNAT's words: Queued, Running, Complete, Failed, ...
    data_type: str = ""  # the experiment's xsi:type
    project: str = ""  # ExternalID
    step_id: str = ""  # current_step_id
    step_description: str = ""
    step_launch_time: datetime | None = None  # current_step_launch_time
    percent_complete: float | None = None  # percentageComplete
    job_id: str = ""  # jobID
    comments: str = ""
    details: str = ""
    scan_id: str = ""
    create_user: str = ""  # who wrote it first (XNAT sets it)
    workflow_id: int | None = None  # wrk_workflowData_id: XNAT's key, None before it is written
