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
from aspider.processors._read import read_processor_file


def load_processor(path: str | Path) -> Processor:
    """One YAML processor file as a `Processor`."""
    file = Path(path)
    spec, proctype, procversion = read_processor_file(file)
    return Processor(spec, proctype=proctype, procversion=procversion, source=str(file))


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
    for proc in processors:
        if proc.proctype in seen:
            message = f"proctype {proc.proctype} is also defined by {seen[proc.proctype]}"
            issues.append(Issue(proc.source, 1, "", message))
        seen[proc.proctype] = proc.source
    if issues:
        raise ProcessorError(issues)
    check_graph(processors)
    return processors
