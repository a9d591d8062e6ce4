"""
A processor's inputs as pydantic models: DAX's v3 `inputs.xnat` (scans, assessors, petscans,
attrs, filters, edits, sessions for subject level, subjects for project level), validated.

Every mapping rejects keys it does not know with a "did you mean" (a misspelt `needs_qc` must not
silently mean "no QC"); every key DAX reads, or its schema names, is known, even where DAX does
nothing with it (`fcount`), so a file DAX loads loads here too.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

VarValue = str | int | float | bool | None


def _known_keys_only(model: type[BaseModel], data: Any) -> Any:
    """`data` as given, or an error naming the first key `model` does not know."""
    if not isinstance(data, dict):
        return data
    allowed = sorted({f.alias or name for name, f in model.model_fields.items()})
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
            raise PydanticCustomError(
                "unknown_key", "unknown key '{key}'{hint}", {"key": str(key), "hint": hint}
            )
    return data


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        return _known_keys_only(cls, data)


def split_globs(text: str) -> tuple[str, ...]:
    """`"T1w, MPRAGE*"` -> `("T1w", "MPRAGE*")`: DAX's comma-separated type lists."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


class ResourceSpec(_Strict):
    """
    Which resource of a scan or assessor to stage, which file(s) of it, and under what name.

    `fmatch` is one shell-style pattern over a file's path inside the resource (DAX's rule: `*`
    also crosses `/`); a FILE input takes exactly one file (two matches block the task unless
    `fmulti: any1`, which takes the first in XNAT's listing). `filepath` names the one file
    outright. `fcount` is in DAX's schema and read by nothing, here as in DAX.
    """

    resource: str = Field(min_length=1)
    ftype: Literal["FILE", "DIR", "DIRJ"] = "FILE"
    fmatch: str | None = None
    filepath: str | None = None
    fdest: str | None = None
    varname: str | None = None
    fmulti: Literal["any1"] | None = None
    ddest: str | None = None
    fcount: int | str | None = None
    required: bool = True

    @field_validator("fdest", "ddest")
    @classmethod
    def _relative_name(cls, value: str | None) -> str | None:
        if value is not None:
            parts = value.replace("\\", "/").split("/")
            if value.startswith("/") or ".." in parts or not value.strip():
                raise ValueError(f"{value!r} must be a relative name inside INPUTS (no '..')")
        return value

    @property
    def pattern(self) -> str | None:
        """The pattern a file must match: `fmatch`, `*` for a FILE without one, else None."""
        if self.fmatch is not None:
            return self.fmatch
        return "*" if self.ftype == "FILE" else None


def _keep_multis_value(value: Any) -> str:
    text = str(value).strip().lower()
    if text in {"all", "first", "last"} or (text.isdigit() and int(text) >= 1):
        return text
    raise ValueError("keep_multis must be all, first, last or a position 1, 2, 3, ...")


def _shortcuts(
    resources: tuple[ResourceSpec, ...], nifti: str | None, edat: str | None = None
) -> tuple[ResourceSpec, ...]:
    """DAX's `nifti: <fdest>` and `edat: <fdest>`: a NIFTI (or EDAT) resource staged as that."""
    extra = [ResourceSpec(resource=r, fdest=d) for r, d in (("NIFTI", nifti), ("EDAT", edat)) if d]
    return (*resources, *extra)


class ScanInput(_Strict):
    """A scan input: scans whose type matches one of `types` (globs, comma-separated)."""

    name: str = Field(min_length=1)
    types: str = Field(min_length=1)
    needs_qc: bool = False
    skip_unusable: bool = False
    require_usable: bool = False
    keep_multis: str = "all"
    nifti: str | None = None
    edat: str | None = None
    resources: tuple[ResourceSpec, ...] = ()

    @field_validator("keep_multis", mode="before")
    @classmethod
    def _keep_multis(cls, value: Any) -> str:
        return _keep_multis_value(value)

    @property
    def type_globs(self) -> tuple[str, ...]:
        return split_globs(self.types)

    @property
    def all_resources(self) -> tuple[ResourceSpec, ...]:
        """The resources, with DAX's `nifti`/`edat` shortcuts expanded."""
        return _shortcuts(self.resources, self.nifti, self.edat)


class PetScanInput(_Strict):
    """
    A PET scan input (DAX's `petscans`): scans of the subject's PET sessions whose tracer
    matches `tracer` and whose type matches `scantypes` (globs, comma-separated). Offered to
    the subject's first MR session only; unusable PET scans are never taken.
    """

    name: str = Field(min_length=1)
    tracer: str = Field(min_length=1)
    scantypes: str = Field(min_length=1)
    needs_qc: bool = False
    require_usable: bool = False
    nifti: str | None = None
    resources: tuple[ResourceSpec, ...] = ()

    @property
    def skip_unusable(self) -> bool:
        """DAX always leaves unusable PET scans out."""
        return True

    @property
    def keep_multis(self) -> str:
        return "all"

    @property
    def types(self) -> str:
        return self.scantypes

    @property
    def type_globs(self) -> tuple[str, ...]:
        return split_globs(self.scantypes)

    @property
    def tracer_globs(self) -> tuple[str, ...]:
        return split_globs(self.tracer)

    @property
    def all_resources(self) -> tuple[ResourceSpec, ...]:
        return _shortcuts(self.resources, self.nifti)


class AssessorInput(_Strict):
    """An assessor input: another processor's output, by proctype (exact names, no globs)."""

    name: str = Field(min_length=1)
    proctypes: str | None = None
    types: str | None = None
    needs_qc: bool = False
    nifti: str | None = None  # in DAX's schema; DAX ignores it on an assessor, and so do we
    resources: tuple[ResourceSpec, ...] = ()

    @model_validator(mode="after")
    def _has_types(self) -> AssessorInput:
        if not (self.proctypes or self.types):
            raise ValueError("an assessor input needs `proctypes` (comma-separated proctypes)")
        return self

    @property
    def proctype_list(self) -> tuple[str, ...]:
        return split_globs(self.proctypes or self.types or "")

    @property
    def all_resources(self) -> tuple[ResourceSpec, ...]:
        return self.resources


class AttrInput(_Strict):
    """
    A value read from XNAT metadata into a command variable. `attr` is the XNAT (pyxnat) name
    of the attribute (`label`, `ID`, `project`, `subject_label`...); `ref` names the scan or
    assessor input it is read from. An assessor attribute without `ref` is the new assessor's.
    """

    varname: str = Field(min_length=1)
    object: Literal["subject", "session", "scan", "assessor"]
    attr: str = Field(min_length=1)
    ref: str | None = None


class FilterSpec(_Strict):
    """`match`: keep only combinations where the named inputs resolve to the same artefact."""

    type: Literal["match"]
    inputs: str

    @property
    def input_list(self) -> tuple[str, ...]:
        return split_globs(self.inputs)


class EditInput(_Strict):
    """DAX's `edits`: the latest file named `<fpref>...` in the assessor's own EDITS resource."""

    fpref: str = Field(min_length=1)
    varname: str = Field(min_length=1)

    @field_validator("fpref")
    @classmethod
    def _plain(cls, value: str) -> str:
        if "/" in value or value in (".", ".."):
            raise ValueError(f"{value!r} must be a plain file name prefix")
        return value


class SessionGroup(_Strict):
    """For subject-level processors: which of the subject's sessions an input draws on."""

    select: Literal["all", "first", "last", "first-mri"] = "all"
    type: str | None = None
    types: str | None = None
    tracer: str | None = None
    tracers: str | None = None
    scans: tuple[ScanInput, ...] = ()
    assessors: tuple[AssessorInput, ...] = ()

    @property
    def session_type_globs(self) -> tuple[str, ...]:
        """Globs on the session type (XNAT's `session_type`), DAX's `type` or `types`."""
        return split_globs(self.type) if self.type else split_globs(self.types or "")

    @property
    def tracer_globs(self) -> tuple[str, ...]:
        return split_globs(self.tracers) if self.tracers else split_globs(self.tracer or "")


class AnalysisScan(_Strict):
    """A project processor's scan: every scan of a selected session with one of `types`."""

    name: str | None = None
    types: str = Field(min_length=1)
    nifti: str | None = None
    keep_multis: str = "all"
    resources: tuple[ResourceSpec, ...] = ()

    @field_validator("keep_multis", mode="before")
    @classmethod
    def _keep_multis(cls, value: Any) -> str:
        return _keep_multis_value(value)

    @property
    def all_resources(self) -> tuple[ResourceSpec, ...]:
        return _shortcuts(self.resources, self.nifti)


class AnalysisAssessor(_Strict):
    """A project processor's assessor: every COMPLETE assessor of one of `types`."""

    name: str | None = None
    types: str | None = None
    proctypes: str | None = None
    nifti: str | None = None
    resources: tuple[ResourceSpec, ...] = ()

    @property
    def proctype_list(self) -> tuple[str, ...]:
        return split_globs(self.proctypes or self.types or "")


class AnalysisSessions(_Strict):
    """Which sessions of each subject a project processor reads, and what of them."""

    types: str | None = None
    select: Literal["all", "first-mri", "first-eeg"] = "all"
    scans: tuple[AnalysisScan, ...] = ()
    assessors: tuple[AnalysisAssessor, ...] = ()


class AnalysisSubjects(_Strict):
    """DAX's `inputs.xnat.subjects`: a project processor (one task over every subject)."""

    assessors: tuple[AnalysisAssessor, ...] = ()
    sessions: tuple[AnalysisSessions, ...] = ()


class XnatInputs(_Strict):
    scans: tuple[ScanInput, ...] = ()
    assessors: tuple[AssessorInput, ...] = ()
    petscans: tuple[PetScanInput, ...] = ()
    attrs: tuple[AttrInput, ...] = ()
    filters: tuple[FilterSpec, ...] = ()
    edits: tuple[EditInput, ...] = ()
    sessions: tuple[SessionGroup, ...] = ()
    subjects: AnalysisSubjects | None = None


class Inputs(_Strict):
    vars: dict[str, VarValue] = Field(default_factory=dict)
    xnat: XnatInputs = Field(default_factory=XnatInputs)
