"""
The in-memory archive: projects, subjects, sessions, scans, resources, files and assessors.

Objects are plain slotted dataclasses rather than pydantic models because a benchmark project
holds ~10^5 of them and listings walk them all per request. Every value a listing can show is
kept as a string, as XNAT shows it, so rendering is a lookup and never a conversion.

IDs follow XNAT's site-wide sequences: subjects `XNAT_S00001`, experiments (sessions and
assessors) `XNAT_E00001`, resources a bare integer (`xnat_abstractresource_id`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

VALID_ID = re.compile(r"^[A-Za-z0-9_-]+$")
TypeName = str

# Canonical spelling of the types we know, keyed by their lower-case form: XNAT matches type
# names case-insensitively (dax sends `proc:genprocdata`) but answers with this spelling.
KNOWN_TYPES: dict[str, TypeName] = {
    t.lower(): t
    for t in (
        "xnat:projectData",
        "xnat:subjectData",
        "xnat:experimentData",
        "xnat:subjectAssessorData",
        "xnat:imageSessionData",
        "xnat:mrSessionData",
        "xnat:petSessionData",
        "xnat:ctSessionData",
        "xnat:imageScanData",
        "xnat:mrScanData",
        "xnat:petScanData",
        "xnat:ctScanData",
        "xnat:imageAssessorData",
        "xnat:derivedData",
        "xnat:mrAssessorData",
        "xnat:qcAssessmentData",
        "proc:genProcData",
        "proc:subjGenProcData",
        "xnat:resourceCatalog",
    )
}
SESSION_TYPES = frozenset(
    {"xnat:imagesessiondata", "xnat:mrsessiondata", "xnat:petsessiondata", "xnat:ctsessiondata"}
)
# DAX's subject assessor: an experiment of a subject (kept as a StoredSession without scans),
# with the genProcData fields and experiment resources of its own.
SUBJECT_ASSESSOR_TYPES = frozenset({"proc:subjgenprocdata"})
ASSESSOR_TYPES = frozenset(
    {
        "xnat:imageassessordata",
        "xnat:deriveddata",
        "xnat:mrassessordata",
        "xnat:qcassessmentdata",
        "proc:genprocdata",
    }
)


def canonical_type(name: str) -> TypeName:
    """The canonical spelling of a type name; unknown names are kept as given."""
    return KNOWN_TYPES.get(name.lower(), name)


def modality_of(xsi_type: str) -> str:
    """`xnat:mrSessionData` -> `MR`: the modality a session type implies."""
    name = xsi_type.split(":")[-1]
    return name[: -len("SessionData")].upper() if name.endswith("SessionData") else ""


def timestamp(moment: dt.datetime | None = None) -> str:
    """XNAT's `java.sql.Timestamp.toString()` form: the fraction without trailing zeros but
    never empty, e.g. `2024-01-31 12:34:56.789`, `...:56.5`, `2022-01-18 16:41:25.0`."""
    moment = moment or dt.datetime.now()
    fraction = f"{moment.microsecond // 1000:03d}".rstrip("0") or "0"
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + fraction


@dataclass(slots=True, eq=False)
class StoredResource:
    """A folder of files; `files` maps a relative path to its bytes (shared objects welcome)."""

    id: str
    label: str
    format: str = ""
    content: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    size: str = "0"  # total bytes, kept as the string listings show; see `changed`
    count: str = "0"  # number of files, likewise

    @property
    def file_size(self) -> int:
        return int(self.size)

    def changed(self) -> None:
        """Recount `size` after `files` was edited (listings read it per row)."""
        self.size = str(sum(len(b) for b in self.files.values()))
        self.count = str(len(self.files))

    def put(self, path: str, data: bytes) -> None:
        self.files[path] = data
        self.changed()


Resources = dict[str, StoredResource]  # by label


@dataclass(slots=True, eq=False)
class StoredScan:
    pk: str  # xnat_imagescandata_id: the database key, distinct from the per-session ID
    id: str
    type: str = ""
    series_description: str = ""
    quality: str = "usable"
    note: str = ""
    frames: str = ""
    xsi_type: TypeName = "xnat:mrScanData"
    uid: str = ""
    resources: Resources = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Experiment:
    """What sessions and assessors share; `fields` holds every other xpath, lower-cased."""

    id: str
    label: str
    project: str
    xsi_type: TypeName
    date: str = ""
    insert_date: str = ""
    last_modified: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    resources: Resources = field(default_factory=dict)
    shares: dict[str, str] = field(default_factory=dict)  # project shared into -> label there


@dataclass(slots=True, eq=False)
class StoredSession(Experiment):
    subject_id: str = ""
    scans: dict[str, StoredScan] = field(default_factory=dict)
    assessors: dict[str, StoredAssessor] = field(default_factory=dict)  # by ID


@dataclass(slots=True, eq=False)
class StoredAssessor(Experiment):
    session_id: str = ""
    out: Resources = field(default_factory=dict)
    inputs: Resources = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class StoredSubject:
    id: str
    label: str
    project: str
    insert_date: str = ""
    last_modified: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    resources: Resources = field(default_factory=dict)
    shares: dict[str, str] = field(default_factory=dict)  # project shared into -> label there


@dataclass(slots=True, eq=False)
class StoredProject:
    id: str
    name: str = ""
    description: str = ""
    secondary_id: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    resources: Resources = field(default_factory=dict)
    subjects: dict[str, StoredSubject] = field(default_factory=dict)  # by ID
    sessions: dict[str, StoredSession] = field(default_factory=dict)  # by ID
    labels: dict[str, str] = field(default_factory=dict)  # experiment label -> ID
    shared: dict[str, StoredSession] = field(default_factory=dict)  # sessions shared in, by ID
    shared_subjects: dict[str, StoredSubject] = field(default_factory=dict)  # likewise subjects


@dataclass(slots=True, eq=False)
class StoredWorkflow:
    """
    A `wrk:workflowData` entry: a step of some processing, as XNAT's History shows it.

    `fields` holds every value by its schema name (`ID`, `pipeline_name`, `launch_time`, ...),
    as stored; `launched` is `launch_time` parsed (entries are unique by pipeline_name, ID,
    scan_id and launch_time); `owner` is the user who created it.
    """

    pk: int  # wrk_workflowData_id
    fields: dict[str, str]
    launched: dt.datetime
    owner: str


class Store:
    """Every object of the archive, indexed by ID and, per project, by label."""

    def __init__(self) -> None:
        self.projects: dict[str, StoredProject] = {}
        self.subjects: dict[str, StoredSubject] = {}
        self.experiments: dict[str, StoredSession | StoredAssessor] = {}
        self.workflows: dict[int, StoredWorkflow] = {}  # by wrk_workflowData_id, in creation order
        self._next = {"subject": 0, "experiment": 0, "resource": 0, "scan": 0, "workflow": 0}

    def _new_id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]

    def new_resource_id(self) -> str:
        return str(self._new_id("resource"))

    def add_workflow(
        self, fields: dict[str, str], launched: dt.datetime, owner: str
    ) -> StoredWorkflow:
        workflow = StoredWorkflow(self._new_id("workflow"), fields, launched, owner)
        self.workflows[workflow.pk] = workflow
        return workflow

    def add_project(self, project_id: str, name: str = "", description: str = "") -> StoredProject:
        project = StoredProject(id=project_id, name=name or project_id, description=description)
        self.projects[project_id] = project
        return project

    def add_subject(
        self, project: str, label: str, subject_id: str = "", **kw: str
    ) -> StoredSubject:
        subject_id = subject_id or f"XNAT_S{self._new_id('subject'):05d}"
        when = kw.pop("insert_date", "") or timestamp()
        subject = StoredSubject(subject_id, label, project, when, when, fields=dict(kw))
        self.subjects[subject_id] = subject
        self.projects[project].subjects[subject_id] = subject
        return subject

    def new_experiment_id(self) -> str:
        while True:
            candidate = f"XNAT_E{self._new_id('experiment'):05d}"
            if candidate not in self.experiments:
                return candidate

    def add_session(
        self, subject: StoredSubject, label: str, xsi_type: str = "xnat:mrSessionData", **kw: str
    ) -> StoredSession:
        when = kw.pop("insert_date", "") or timestamp()
        session = StoredSession(
            id=kw.pop("id", "") or self.new_experiment_id(),
            label=label,
            project=subject.project,
            xsi_type=canonical_type(xsi_type),
            date=kw.pop("date", ""),
            insert_date=when,
            last_modified=kw.pop("last_modified", "") or when,
            fields=dict(kw),
            subject_id=subject.id,
        )
        self.experiments[session.id] = session
        project = self.projects[subject.project]
        project.sessions[session.id] = session
        project.labels[label] = session.id
        return session

    def add_scan(self, session: StoredSession, scan_id: str, **kw: str) -> StoredScan:
        scan = StoredScan(pk=str(self._new_id("scan")), id=scan_id)
        for name, value in kw.items():
            setattr(scan, name, value)
        session.scans[scan_id] = scan
        return scan

    def add_assessor(
        self, session: StoredSession, label: str, xsi_type: str = "proc:genProcData", **kw: str
    ) -> StoredAssessor:
        """An assessor of `session`, in the session's project or in `project=` (a project the
        session is shared into, where XNAT creates what is PUT through that project's URL)."""
        when = kw.pop("insert_date", "") or timestamp()
        assessor = StoredAssessor(
            id=kw.pop("id", "") or self.new_experiment_id(),
            label=label,
            project=kw.pop("project", "") or session.project,
            xsi_type=canonical_type(xsi_type),
            date=kw.pop("date", ""),
            insert_date=when,
            last_modified=kw.pop("last_modified", "") or when,
            fields=dict(kw),
            session_id=session.id,
        )
        self.experiments[assessor.id] = assessor
        session.assessors[assessor.id] = assessor
        self.projects[assessor.project].labels[label] = assessor.id
        return assessor

    def add_resource(
        self,
        owner: Resources,
        label: str,
        fmt: str = "",
        content: str = "",
        files: dict[str, bytes] | None = None,
    ) -> StoredResource:
        resource = StoredResource(self.new_resource_id(), label, fmt, content, files or {})
        if files:
            resource.changed()
        owner[label] = resource
        return resource

    def share(
        self, session: StoredSession, project: str, label: str = "", subject_label: str = ""
    ) -> None:
        """
        Share a session into another project (`xnat:experimentData/sharing/share`), under
        `label` there (its own label by default), with its subject (`subject_label` there):
        that project then lists both as its own (ProjSubExptList, ProjectSubjectList).
        """
        target = self.projects[project]
        label = label or session.label
        session.shares[project] = label
        target.shared[session.id] = session
        target.labels[label] = session.id
        subject = self.subjects[session.subject_id]
        if subject.project != project and project not in subject.shares:
            subject.shares[project] = subject_label or subject.label
            target.shared_subjects[subject.id] = subject

    def find_subject(self, project: str, key: str) -> StoredSubject | None:
        """A subject of `project` (its own or shared into it) by ID or label there."""
        proj = self.projects.get(project)
        if proj is None:
            return None
        found = proj.subjects.get(key) or proj.shared_subjects.get(key)
        if found is not None:
            return found
        own = next((s for s in proj.subjects.values() if s.label == key), None)
        return own or next(
            (s for s in proj.shared_subjects.values() if s.shares[project] == key), None
        )

    def find_experiment(
        self, project: str | None, key: str
    ) -> StoredSession | StoredAssessor | None:
        """An experiment by ID, or by label within `project` when one is given."""
        found = self.experiments.get(key)
        if found is not None:
            if project is None or found.project == project or project in found.shares:
                return found
            return None
        if project is None or project not in self.projects:
            return None
        exp_id = self.projects[project].labels.get(key)
        return self.experiments.get(exp_id) if exp_id else None

    def delete_experiment(self, experiment: StoredSession | StoredAssessor) -> None:
        self.experiments.pop(experiment.id, None)
        project = self.projects.get(experiment.project)
        if project is not None and project.labels.get(experiment.label) == experiment.id:
            del project.labels[experiment.label]
        if isinstance(experiment, StoredAssessor):
            parent = self.experiments.get(experiment.session_id)
            if isinstance(parent, StoredSession):
                parent.assessors.pop(experiment.id, None)
            return
        if project is not None:
            project.sessions.pop(experiment.id, None)
        for other, label in experiment.shares.items():
            into = self.projects.get(other)
            if into is not None:
                into.shared.pop(experiment.id, None)
                if into.labels.get(label) == experiment.id:
                    del into.labels[label]
        for assessor in list(experiment.assessors.values()):
            self.delete_experiment(assessor)

    def delete_subject(self, subject: StoredSubject) -> None:
        project = self.projects[subject.project]
        for session in [s for s in project.sessions.values() if s.subject_id == subject.id]:
            self.delete_experiment(session)
        project.subjects.pop(subject.id, None)
        self.subjects.pop(subject.id, None)

    def sessions_of(self, project: str | None) -> Iterator[StoredSession]:
        """Sessions of one project (through its index) or of the whole site."""
        if project is not None:
            proj = self.projects.get(project)
            return iter(proj.sessions.values()) if proj else iter(())
        return (p for proj in self.projects.values() for p in proj.sessions.values())

    def assessors_of(self, project: str | None) -> Iterator[StoredAssessor]:
        return (a for s in self.sessions_of(project) for a in s.assessors.values())
