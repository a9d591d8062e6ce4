"""
What matching produces and what the executor consumes: candidates, resolved inputs, tasks.

These are frozen slotted dataclasses rather than pydantic models because a sweep builds one per
session and processor (tens of thousands); pydantic still validates and serialises them when a
plan is printed (`aspider.planner.plan_to_json`).

A snapshot knows resource labels and file counts but not file names, so a resolved input stops
at the resource: (artefact, resource label, fmatch pattern, fdest). The executor lists the
resource and downloads the matching files when it stages the task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Level = Literal["scan", "session", "subject", "project"]
FileType = Literal["FILE", "DIR", "DIRJ"]


@dataclass(frozen=True, slots=True)
class InputResource:
    """A resource to stage: `uri` + `/files` lists it; `fmatch` picks files; `fdest` names them."""

    resource: str
    ftype: FileType
    fmatch: str | None
    fdest: str | None
    ddest: str | None
    fmulti: str | None
    required: bool
    uri: str
    file_count: int | None = None


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


@dataclass(frozen=True, slots=True)
class TaskCandidate:
    """
    One input combination of one processor in one scope.

    Ready when `reasons` is empty; otherwise blocked, and `reasons` says exactly why. The
    assessor lives on the anchor session (`session_id`), which for subject- and project-level
    processors is the scope's first session.
    """

    proctype: str
    level: Level
    project: str
    subject_id: str
    subject_label: str
    session_id: str
    session_label: str
    scan_id: str | None
    inputs: tuple[ResolvedInput, ...]
    inputs_json: str
    label: str
    reasons: tuple[str, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()

    @property
    def ready(self) -> bool:
        return not self.reasons

    def inputs_map(self) -> dict[str, str]:
        return {item.name: item.path for item in self.inputs}


@dataclass(frozen=True, slots=True)
class NotApplicable:
    """A processor found nothing to run on in a scope (some input has no candidate at all)."""

    proctype: str
    project: str
    session_id: str
    session_label: str
    reasons: tuple[str, ...]


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
