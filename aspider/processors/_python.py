"""
The `Processor` object: a validated spec plus its identity, usable from Python.

YAML processors become instances of this class. For custom logic, subclass it and override the
`match` coroutine (e.g. to drop candidates by a rule YAML cannot say), then name the class as
`module:Class` in the settings. A subclass states its spec with the class attributes `YAML` (a
processor file, relative to the subclass's module) or `SPEC` + `PROCTYPE` + `PROCVERSION`.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from aspider._exceptions import Issue, ProcessorError
from aspider.processors._checks import iter_inputs
from aspider.processors._compiled import compile_processor
from aspider.processors._inputs import AssessorInput
from aspider.processors._model import Level, ProcessorSpec
from aspider.processors._read import read_processor_file
from aspider.processors._trial import TRIAL_NAME_TAKEN, is_trial

#: What a result depends on: a change to any of these makes the processor's earlier results
#: stale. What it asks the scheduler for, its priority, queue limits, retries, job template,
#: description and the file's comments and layout do not change a result, and are left out.
DEFINITION_KEYS = frozenset({"level", "inputs", "outputs", "containers", "pre", "command", "post"})

if TYPE_CHECKING:  # the planner's types, for annotations only: the planner imports this module
    from aspider.plan import MatchResult, Scope


class Processor:
    """A processor. Instances are immutable in practice: the planner shares them across sessions."""

    YAML: ClassVar[str | None] = None
    SPEC: ClassVar[ProcessorSpec | None] = None
    PROCTYPE: ClassVar[str] = ""
    PROCVERSION: ClassVar[str] = ""

    def __init__(
        self,
        spec: ProcessorSpec | None = None,
        *,
        proctype: str = "",
        procversion: str = "",
        source: str = "",
        notes: tuple[str, ...] = (),
    ) -> None:
        if spec is None:
            spec, proctype, procversion, source = self._class_spec()
        if not proctype or not procversion:
            raise ProcessorError(
                [Issue(source or type(self).__name__, 1, "", "no proctype/version")]
            )
        self.spec = spec
        self.proctype = proctype
        self.procversion = procversion
        self.source = source or f"{type(self).__module__}:{type(self).__qualname__}"
        self.notes = notes  # what a person should know that is not an error (file:line: ...)
        self.compiled = compile_processor(self)

    @property
    def name(self) -> str:
        return self.proctype

    @property
    def level(self) -> Level:
        return self.spec.level

    @property
    def priority(self) -> int:
        return self.spec.priority

    @property
    def max_queued(self) -> int | None:
        return self.spec.max_queued

    @property
    def upstream_proctypes(self) -> frozenset[str]:
        """The proctypes whose assessors this processor takes as inputs (its DAG edges)."""
        found: set[str] = set()
        for _, item in iter_inputs(self.spec):
            if isinstance(item, AssessorInput):
                found.update(item.proctype_list)
        return frozenset(found)

    @property
    def reads_tracers(self) -> bool:
        """Whether matching needs PET sessions' tracers (`petscans`, `sessions[].tracer`)."""
        xnat = self.spec.inputs.xnat
        return bool(xnat.petscans) or any(g.tracer_globs for g in xnat.sessions)

    def default_match(self, scope: Scope) -> MatchResult:
        """The declarative matching of the spec (pure); a custom `match` may start from it."""
        return scope.default_match(self)

    async def match(self, scope: Scope) -> MatchResult:
        """
        The candidates of this processor in one scope; override for custom logic.

        Must not write anything: planning (and --dry-run) call it.
        """
        return self.default_match(scope)

    @cached_property
    def definition_digest(self) -> str:
        """
        SHA-256 of what its results depend on (`DEFINITION_KEYS`, with the project's overrides
        applied, and its name and version), as canonical JSON: equal definitions give equal
        digests whatever the file's layout. Values left at their defaults are left out, so a
        later aspider that adds a setting does not make every result look stale.
        """
        data = self.spec.model_dump(
            mode="json", include=set(DEFINITION_KEYS), by_alias=True, exclude_defaults=True
        )
        data["proctype"], data["procversion"] = self.proctype, self.procversion
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @cached_property
    def file_digest(self) -> str:
        """SHA-256 of its file's bytes as read now ("" for a processor with no file)."""
        try:
            return hashlib.sha256(Path(self.source).read_bytes()).hexdigest()
        except (OSError, ValueError):
            return ""

    def __repr__(self) -> str:
        return f"<Processor {self.proctype} {self.procversion} ({self.level})>"

    @classmethod
    def _class_spec(cls) -> tuple[ProcessorSpec, str, str, str]:
        if cls.YAML is not None:
            path = _yaml_path_of(cls, cls.YAML)
            spec, proctype, procversion = read_processor_file(path)
            return spec, proctype, procversion, str(path)
        if cls.SPEC is None:
            where = f"{cls.__module__}:{cls.__qualname__}"
            raise ProcessorError(
                [Issue(where, 1, "", "set YAML, or SPEC with PROCTYPE/PROCVERSION")]
            )
        return cls.SPEC, cls.PROCTYPE, cls.PROCVERSION, ""


def _yaml_path_of(cls: type[Processor], yaml: str) -> Path:
    """
    `YAML` as given when absolute; else beside the class's module, or, for a class with no
    source file (defined in a notebook or at the prompt), in the current directory.
    """
    if Path(yaml).is_absolute():
        return Path(yaml)
    try:
        return Path(inspect.getfile(cls)).parent / yaml
    except (TypeError, OSError):
        return Path.cwd() / yaml


def load_processor_class(reference: str) -> Processor:
    """
    Import `module:Class` and instantiate it (no arguments).

    Raises:
        ProcessorError: the reference is malformed, cannot be imported, or is not a Processor.
    """
    module_name, _, class_name = reference.partition(":")
    if not module_name or not class_name:
        raise ProcessorError([Issue(reference, 1, "", "expected module:Class")])
    try:
        module = importlib.import_module(module_name)
        obj = getattr(module, class_name)
    except (ImportError, AttributeError) as exc:
        raise ProcessorError([Issue(reference, 1, "", f"cannot import: {exc}")]) from exc
    if not (isinstance(obj, type) and issubclass(obj, Processor)):
        raise ProcessorError([Issue(reference, 1, "", "is not a subclass of aspider Processor")])
    processor = obj()
    if is_trial(processor.proctype):
        message = f"proctype {processor.proctype}: {TRIAL_NAME_TAKEN}"
        raise ProcessorError([Issue(reference, 1, "", message)])
    return processor
