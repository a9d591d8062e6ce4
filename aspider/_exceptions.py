"""
The exceptions `aspider` raises for a user to act on.

```
AspiderError
├── ConfigError            settings are missing, malformed or contradict each other
└── ProcessorError         a processor file or class is invalid (.path, .issues: file:line: field)
    └── ProcessorCycleError    processors depend on each other's assessors in a cycle (.cycle)
```
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class AspiderError(Exception):
    """Base of every error aspider raises on purpose."""


class ConfigError(AspiderError):
    """The effective configuration cannot be used; the message says what to change."""


@dataclass(frozen=True)
class Issue:
    """One problem in a processor definition, located as precisely as the source allows."""

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ProcessorError(AspiderError):
    """One or more processors are invalid; every issue names its file, line and field."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class ProcessorCycleError(ProcessorError):
    """Processors wait on each other's assessors in a cycle, so none of them could ever run."""

    def __init__(self, cycle: Sequence[str], path: str = "") -> None:
        self.cycle = tuple(cycle)
        message = "dependency cycle between processors: " + " -> ".join(self.cycle)
        super().__init__([Issue(path or "<processors>", 1, "inputs.xnat.assessors", message)])


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """
    The first real error inside a task group's exception group.

    A task group wraps whatever its body raised; callers act on the error itself (`XnatError`,
    `PbsError`, `LeaseLost`), so the engine unwraps once, where it opens the group.
    """
    first = group.exceptions[0]
    return first_error(first) if isinstance(first, BaseExceptionGroup) else first
