"""
What matching produces and what the executor consumes: candidates, resolved inputs, tasks.

These are frozen slotted dataclasses rather than pydantic models because a sweep builds one per
session and processor (tens of thousands); pydantic still validates and serialises them when a
plan is printed (`aspider.plan.plan_json.plan_to_dict`).

A snapshot knows resource labels and file counts but not file names, so a resolved input stops
at the resource: (artefact, resource label, fmatch pattern, fdest). The executor lists the
resource and downloads the matching files when it stages the task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from aspider.plan.labels import (
    assessor_label,
    canonical_inputs_json,
    inputs_digest,
    subject_assessor_label,
)
from aspider.plan.retry import Attempts
from aspider.processors import Level

FileType = Literal["FILE", "DIR", "DIRJ"]


@dataclass(frozen=True, slots=True)
class InputResource:
    """
    A resource to stage: `uri` + `/files` lists it; `fmatch` (one pattern over the path in the
    resource) or `filepath` picks the file(s); `fdest` names them under INPUTS/; `varname` is
    the placeholder the command knows them by.
    """

    resource: str
    ftype: FileType
    fmatch: str | None
    fdest: str | None
    ddest: str | None
    fmulti: str | None
    required: bool
    uri: str
    file_count: int | None = None  # as the snapshot counted them (a scan's; None: not known)
    varname: str = ""
    filepath: str | None = None
    file_size: int | None = None  # the resource's bytes, as the snapshot counted them


@dataclass(frozen=True, slots=True)
class ResolvedInput:
    """One input of a task bound to one scan or assessor; `path` is its value in `inputs`."""

    name: str
    kind: Literal["scan", "assessor"]
    path: str
    session_id: str
    session_label: str
    scan_id: str | None = None
    assessor_id: str | None = None
    assessor_label: str | None = None
    resources: tuple[InputResource, ...] = ()
    job_id: str = ""  # an upstream assessor's job, as the snapshot shows it (its provenance)


@dataclass(frozen=True, slots=True)
class CandidateDetail:
    """The costly part of a candidate, resolved only when a decision needs it."""

    inputs: tuple[ResolvedInput, ...]
    reasons: tuple[str, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()


class TaskCandidate:
    """
    One input combination of one processor in one scope.

    Ready when `reasons` is empty; otherwise blocked, and `reasons` says exactly why. The
    assessor lives on the anchor session (`session_id`), which for project-level processors is
    the scope's first session; a subject-level task's assessor is the subject's own (DAX's
    proc:subjGenProcData), with no session: `session_id` and `session_label` are "". `key`
    (sorted input name -> XNAT path pairs) is the identity; `inputs`, `reasons`, `attrs`,
    `inputs_json` and `label` are worked out on first use, because the nightly sweep only
    needs `key` for tasks that are already complete.
    """

    __slots__ = (
        "_detail",
        "_json",
        "_label",
        "_resolve",
        "key",
        "level",
        "proctype",
        "project",
        "scan_id",
        "session_id",
        "session_label",
        "subject_id",
        "subject_label",
    )

    def __init__(
        self,
        proctype: str,
        level: Level,
        project: str,
        subject_id: str,
        subject_label: str,
        session_id: str,
        session_label: str,
        scan_id: str | None,
        key: tuple[tuple[str, str], ...],
        detail: CandidateDetail | Callable[[], CandidateDetail],
    ) -> None:
        self.proctype = proctype
        self.level = level
        self.project = project
        self.subject_id = subject_id
        self.subject_label = subject_label
        self.session_id = session_id
        self.session_label = session_label
        self.scan_id = scan_id
        self.key = key
        self._detail = detail if isinstance(detail, CandidateDetail) else None
        self._resolve = None if isinstance(detail, CandidateDetail) else detail
        self._json: str | None = None
        self._label: str | None = None

    def detail(self) -> CandidateDetail:
        if self._detail is None:
            assert self._resolve is not None
            self._detail = self._resolve()
        return self._detail

    @property
    def inputs(self) -> tuple[ResolvedInput, ...]:
        return self.detail().inputs

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.detail().reasons

    @property
    def attrs(self) -> tuple[tuple[str, str], ...]:
        return self.detail().attrs

    @property
    def ready(self) -> bool:
        return not self.reasons

    @property
    def inputs_json(self) -> str:
        """The `inputs` field to write: canonical JSON of name -> path."""
        if self._json is None:
            self._json = canonical_inputs_json(dict(self.key))
        return self._json

    @property
    def label(self) -> str:
        if self._label is None:
            digest = inputs_digest(self.inputs_json)
            if not self.session_id:
                self._label = subject_assessor_label(
                    self.project, self.subject_label, self.proctype, digest
                )
            else:
                self._label = assessor_label(
                    self.project, self.subject_label, self.session_label, self.proctype, digest
                )
        return self._label

    def inputs_map(self) -> dict[str, str]:
        return dict(self.key)

    def relabelled(self, label: str) -> TaskCandidate:
        """
        The same candidate under an existing assessor's label (one DAX made, with random
        digits): its job, job directory and `{assessor}` are then that assessor's.
        """
        if label == self.label:
            return self
        other = TaskCandidate(
            self.proctype,
            self.level,
            self.project,
            self.subject_id,
            self.subject_label,
            self.session_id,
            self.session_label,
            self.scan_id,
            self.key,
            self.detail,
        )
        other._label = label
        return other

    def __repr__(self) -> str:
        return f"<TaskCandidate {self.proctype} {self.session_label} {dict(self.key)}>"


@dataclass(frozen=True, slots=True)
class NotApplicable:
    """A processor found nothing to run on in a scope (some input has no candidate at all)."""

    proctype: str
    project: str
    session_id: str
    session_label: str
    reasons: tuple[str, ...]


#: An assessor's resource of people's manual edits (DAX's): read by `edits` inputs.
EDITS_RESOURCE = "EDITS"
#: Resources a rerun keeps, as DAX's does: people's edits, and what an earlier run set aside.
KEPT_ON_RERUN = frozenset({EDITS_RESOURCE, "OLD"})


@dataclass(frozen=True, slots=True)
class OutputDecl:
    """A declared output: `path` under OUTPUTS/, uploaded into assessor resource `resource`."""

    path: str
    type: Literal["FILE", "DIR"]
    resource: str


@dataclass(frozen=True, slots=True)
class TaskRequirements:
    walltime: str
    walltime_seconds: int
    memory_mb: int
    ppn: int


@dataclass(frozen=True, slots=True)
class Task:
    """
    Everything the executor needs to stage, submit and finalise one task, without re-deriving.

    `command_script` is the processor's command with every placeholder substituted; it runs in
    the task directory with INDIR, OUTDIR and JOBDIR exported (INPUTS/, OUTPUTS/ and the task
    directory itself). `container` is the resolved image path for singularity commands.
    """

    label: str
    proctype: str
    procversion: str
    level: Level
    priority: int
    project: str
    subject_id: str
    subject_label: str
    session_id: str
    session_label: str
    scan_id: str | None
    inputs: tuple[ResolvedInput, ...]
    inputs_json: str
    command_script: str
    container: str | None
    requirements: TaskRequirements
    outputs: tuple[OutputDecl, ...]
    vars: tuple[tuple[str, str], ...] = field(default=())
    # Its jobs so far, when it has been retried (`aspider.plan.retry`); None for attempt 1.
    attempts: Attempts | None = None
    # DAX's per-processor job template, as an absolute path (None: the executor's own script).
    # Only an executor that renders DAX templates uses it; the others report it as unused.
    jobtemplate: str | None = None
    # DAX's `edits`: (file name prefix, varname), read from the assessor's own EDITS resource
    # when it has one (`run.tasks.staging.stage_edits`); the command's placeholder is filled then.
    edits: tuple[tuple[str, str], ...] = ()
    # What its result will have been made by, for its provenance: the processor's definition
    # digest (`Processor.definition_digest`), and its file with that file's digest
    processor_digest: str = ""
    processor_file: str = ""
    processor_file_digest: str = ""


@dataclass(frozen=True, slots=True)
class MatchResult:
    """A processor's candidates in one scope, or why it does not apply there."""

    candidates: tuple[TaskCandidate, ...] = ()
    not_applicable: NotApplicable | None = None
