"""
Loading processors as a set: YAML files and directories, `module:Class` references, then the
checks only a set can fail (two files with one proctype, a dependency cycle).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from aspider._exceptions import Issue, ProcessorError
from aspider.processors._graph import check_graph
from aspider.processors._python import Processor, load_processor_class
from aspider.processors._read import read_processor


def load_processor(path: str | Path) -> Processor:
    """One YAML processor file as a `Processor`."""
    file = Path(path)
    read = read_processor(file)
    return Processor(
        read.spec,
        proctype=read.proctype,
        procversion=read.procversion,
        source=str(file),
        notes=read.notes,
    )


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, directories as their `*.yaml`/`*.yml` files in name order."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        else:
            files.append(path)
    return files


def load_processors(
    paths: Iterable[str | Path] = (), classes: Iterable[str] = ()
) -> list[Processor]:
    """
    Load YAML processors (files or directories) and `module:Class` processors, then check them
    as a set: unique proctypes and an acyclic dependency graph.

    Raises:
        ProcessorError: every invalid file's issues together.
        ProcessorCycleError: processors take each other's assessors as inputs in a cycle.
    """
    processors, issues = load_processors_leniently(paths, classes)
    if issues:
        raise ProcessorError(issues)
    return processors


def load_processors_leniently(
    paths: Iterable[str | Path] = (), classes: Iterable[str] = ()
) -> tuple[list[Processor], list[Issue]]:
    """
    The processors that load, and the issues of those that do not.

    A sweep runs what it can: one bad file among many is reported (file:line) and left out,
    never the reason the others do not run. A proctype defined twice leaves both definitions
    out (which one was meant cannot be known); a dependency cycle still stops everything.

    Raises:
        ProcessorCycleError: processors take each other's assessors as inputs in a cycle.
    """
    processors: list[Processor] = []
    issues: list[Issue] = []
    for file in expand_paths(paths):
        try:
            processors.append(load_processor(file))
        except ProcessorError as exc:
            issues += exc.issues
    for reference in classes:
        try:
            processors.append(load_processor_class(reference))
        except ProcessorError as exc:
            issues += exc.issues
    seen: dict[str, str] = {}
    twice: set[str] = set()
    for proc in processors:
        if proc.proctype in seen:
            message = f"proctype {proc.proctype} is also defined by {seen[proc.proctype]}"
            issues.append(Issue(proc.source, 1, "", message))
            twice.add(proc.proctype)
        seen[proc.proctype] = proc.source
    processors = [p for p in processors if p.proctype not in twice]
    check_graph(processors)
    return processors, issues


def is_named(processor: Processor, names: Iterable[str]) -> bool:
    """Whether one of `names` is the processor's proctype, or its name without the version."""
    wanted = set(names)
    return processor.proctype in wanted or processor.proctype.rsplit("_v", 1)[0] in wanted
