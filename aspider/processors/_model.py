"""
The processor YAML as pydantic models, in DAX's v3 shape plus aspider's few additions.

The inputs are in `_inputs.py`. Every mapping rejects keys it does not know with a "did you
mean". Cross-field rules (names that refer to other names) are checked in `_checks.py`, where
each finding can point at the exact field.

The level is DAX's inference when the file does not say (DAX has no `level:` key):
`inputs.xnat.subjects` is a project processor, `inputs.xnat.sessions` a subject processor,
anything else a session processor (one task per combination of inputs, so a processor whose
only input is a scan makes one task per matching scan, as DAX does).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from aspider.processors._inputs import Inputs, _known_keys_only, _Strict
from aspider.processors._units import parse_memory_mb, parse_walltime

Level = Literal["scan", "session", "subject", "project"]


def inferred_level(data: dict[str, Any]) -> Level:
    """DAX's level for a processor file without `level:`: from the shape of its inputs."""
    inputs = data.get("inputs")
    xnat = inputs.get("xnat") if isinstance(inputs, dict) else None
    if isinstance(xnat, dict):
        if xnat.get("subjects") is not None:
            return "project"
        if xnat.get("sessions"):
            return "subject"
    return "session"


#: The kinds of stale result a policy may send back: an input resource changed, an upstream
#: result was rerun (or is stale itself), the processor's definition changed.
StaleKind = Literal["inputs", "upstream", "processor"]


def stale_kinds(value: Any) -> Any:
    """`inputs,upstream` as a project's override gives it, as the list it stands for."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Requirements(_Strict):
    """Resources the job asks the scheduler for (DAX defaults: 2 hours, 16 GB, 1 core)."""

    walltime: str | int = "0-2"
    memory: str | int = "16G"
    ppn: int = Field(default=1, ge=1)
    env: str | None = None  # DAX's `${job_env}` for its own template; see `Processor.notes`
    # aspider's: ask what earlier jobs used rather than `memory` / `walltime` (which stay the
    # request until enough jobs have completed; see `TunePolicy`). `memory,walltime` as one
    # string too, as a project's override gives it.
    tune: tuple[Literal["memory", "walltime"], ...] = ()

    @field_validator("tune", mode="before")
    @classmethod
    def _tune(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("walltime")
    @classmethod
    def _walltime(cls, value: str | int) -> str | int:
        parse_walltime(value)
        return value

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str | int) -> str | int:
        parse_memory_mb(value)
        return value

    @property
    def walltime_seconds(self) -> int:
        return parse_walltime(self.walltime)

    @property
    def memory_mb(self) -> int:
        return parse_memory_mb(self.memory)


#: Why a job may have ended, in the words a retry policy's `on` lists (the values of
#: `pbs.EndCause` other than success: a test keeps the two vocabularies equal).
RetryCause = Literal[
    "memory",
    "walltime",
    "node_failure",
    "preempted",
    "cancelled",
    "killed",
    "scheduler",
    "exit_code",
    "lost",
]


class RetryPolicy(_Strict):
    """
    Whether a job the scheduler stopped is submitted again, and with how much more.

    A job that ended for a cause in `on` is submitted again by the next sweep, up to
    `attempts` jobs in all (1: never again): after a memory kill with its memory times
    `memory_factor`, after a walltime kill with its walltime times `walltime_factor` (each at
    most `max_memory` / `max_walltime`), after any other cause with the same request. A
    request already at its maximum is not tried again. The processor's `retry:` fields win
    over the site's (`retry:` in the settings), field by field (`over`).

    YAML 1.1 reads a bare `on:` key as the boolean true; it is taken as `on` here.
    """

    attempts: int = Field(default=1, ge=1, le=10)
    on: tuple[RetryCause, ...] = ("memory", "walltime", "node_failure", "preempted")
    memory_factor: float = Field(default=2.0, ge=1.0, le=100.0)
    walltime_factor: float = Field(default=1.5, ge=1.0, le=100.0)
    max_memory: str | int | None = None
    max_walltime: str | int | None = None

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and True in data:
            data = {("on" if key is True else key): value for key, value in data.items()}
        return _known_keys_only(cls, data)

    @field_validator("max_memory")
    @classmethod
    def _max_memory(cls, value: str | int | None) -> str | int | None:
        if value is not None:
            parse_memory_mb(value)
        return value

    @field_validator("max_walltime")
    @classmethod
    def _max_walltime(cls, value: str | int | None) -> str | int | None:
        if value is not None:
            parse_walltime(value)
        return value

    @property
    def max_memory_mb(self) -> int | None:
        return None if self.max_memory is None else parse_memory_mb(self.max_memory)

    @property
    def max_walltime_seconds(self) -> int | None:
        return None if self.max_walltime is None else parse_walltime(self.max_walltime)

    def over(self, default: RetryPolicy) -> RetryPolicy:
        """This policy's fields where it sets them, the default's elsewhere."""
        mine = {name: getattr(self, name) for name in self.model_fields_set}
        return default.model_copy(update=mine)


class TunePolicy(_Strict):
    """
    How right-sizing turns earlier jobs into a request (`aspider tune`, and the processors
    whose `requirements: tune:` asks for it): the 95th percentile of what successful jobs used
    times a margin, rounded up to a step a scheduler likes, never below the most any
    successful job used nor at or below a request that a job was killed for exceeding, and
    never above the retry policy's maximum. Until `min_jobs` jobs have succeeded, the
    processor's own request stands.
    """

    min_jobs: int = Field(default=5, ge=1)
    memory_margin: float = Field(default=1.2, ge=1.0, le=10.0)
    walltime_margin: float = Field(default=1.5, ge=1.0, le=10.0)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        return _known_keys_only(cls, data)


class OutputSpec(_Strict):
    """One declared output: a `pdf`/`stats`/`dir` shortcut, or explicit `path`+`type`+`resource`."""

    path: str | None = None
    type: Literal["FILE", "DIR"] | None = None
    resource: str | None = None
    pdf: str | None = None
    stats: str | None = None
    dir: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> OutputSpec:
        shortcuts = [k for k in ("pdf", "stats", "dir") if getattr(self, k) is not None]
        if len(shortcuts) > 1:
            raise ValueError(f"use one of pdf, stats, dir per output, not {', '.join(shortcuts)}")
        if not shortcuts and (self.path is None or self.resource is None):
            raise ValueError("an output needs `pdf`, `stats`, `dir`, or both `path` and `resource`")
        return self

    def resolved(self) -> tuple[str, Literal["FILE", "DIR"], str]:
        """(path, type, resource) after applying the shortcut, as DAX reads it."""
        path, kind, resource = "", "FILE", ""
        if self.pdf is not None:
            path, kind, resource = self.pdf, "FILE", "PDF"
        elif self.stats is not None:
            path, kind, resource = self.stats, "FILE", "STATS"
        elif self.dir is not None:
            path, kind, resource = self.dir, "DIR", self.dir
        final_kind: Literal["FILE", "DIR"] = self.type or ("DIR" if kind == "DIR" else "FILE")
        return self.path or path, final_kind, self.resource or resource


class ContainerSpec(_Strict):
    name: str = Field(min_length=1)
    path: str = Field(min_length=1)
    source: str | None = None


class CommandSpec(_Strict):
    """What the job runs: a Singularity/Apptainer container (DAX's two forms) or a shell command."""

    type: Literal["singularity_exec", "singularity_run", "shell"]
    container: str | None = None
    opts: str | None = None
    extraopts: str | None = None
    args: str | None = None
    script: str | None = None

    @model_validator(mode="after")
    def _fields_fit_type(self) -> CommandSpec:
        if self.type == "shell":
            if not self.script:
                raise ValueError("a shell command needs `script` (the command line to run)")
            extra = [k for k in ("container", "opts", "extraopts", "args") if getattr(self, k)]
            if extra:
                raise ValueError(f"a shell command takes no {', '.join(extra)}; use `script`")
        elif self.script is not None:
            raise ValueError(f"{self.type} takes `args`, not `script`")
        return self


class ProcessorSpec(_Strict):
    """One processor file. proctype and procversion come from the file name, not from here."""

    procyamlversion: str | None = None
    description: str = ""
    level: Level = "session"
    priority: int = 0
    max_queued: int | None = Field(default=None, ge=0)
    inputs: Inputs = Field(default_factory=Inputs)
    requirements: Requirements = Field(default_factory=Requirements)
    outputs: tuple[OutputSpec, ...] = ()
    containers: tuple[ContainerSpec, ...] = ()
    pre: CommandSpec | None = None
    command: CommandSpec
    post: CommandSpec | None = None
    jobtemplate: str | None = None
    retry: RetryPolicy | None = None  # None: the site's default (settings `retry:`)
    jobdir: str | None = None  # a DAX v2 key some v3 files keep; DAX v3 reads nothing of it
    # aspider's: which kinds of stale result a sweep sends back by itself (see
    # `aspider.plan.staleness`); None: the project's, else the site's `rerun_stale`
    rerun_stale: tuple[StaleKind, ...] | None = None

    @field_validator("rerun_stale", mode="before")
    @classmethod
    def _rerun_stale(cls, value: Any) -> Any:
        return stale_kinds(value)

    @model_validator(mode="before")
    @classmethod
    def _infer_level(cls, data: Any) -> Any:
        if isinstance(data, dict) and "level" not in data:
            return {**data, "level": inferred_level(data)}
        return data
