"""
The exceptions `aspider` raises for a user to act on.

```
AspiderError
├── ConfigError            settings are missing, malformed or contradict each other
├── ProcessorError         a processor file or class is invalid (.issues: file:line: field)
│   └── ProcessorCycleError    processors depend on each other's assessors in a cycle (.cycle)
├── LeaseHeld              another sweep holds the project's lease (.project, .owner, .expires)
├── LeaseLost              our lease vanished or changed hands while we held it
├── TrialInTheWay          an earlier trial of the processor on the session is still there (.label)
├── StagingError           an input cannot be staged (the sentence says what and why)
│   └── InputsMissing          the task's declared inputs are not all there
├── OutputsMissing         a job ended 0 without its declared outputs (.missing, .none_present)
└── UploadMismatch         XNAT's listing disagrees with what was uploaded
```

Errors of the libraries (`xnat_client.XnatError`, `pbs.PbsError`) are theirs: the engine records
them on the affected assessor and never wraps them in these.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

E = TypeVar("E", bound=BaseException)


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


class LeaseHeld(AspiderError):
    """Another sweep holds the project's lease; this one must not run."""

    def __init__(self, project: str, owner: str, expires: float) -> None:
        left = max(0, int(expires - time.time()))
        super().__init__(
            f"project {project!r} is being swept by {owner} (lease expires in {left}s); "
            "try again later"
        )
        self.project = project
        self.owner = owner
        self.expires = expires


class LeaseLost(AspiderError):
    """Our lease disappeared or changed hands while we held it: stop touching the project."""


class TrialInTheWay(AspiderError):
    """
    An earlier trial of the processor on the session is still there (`aspider trial`): its job
    is under way, or it could not be removed. A new trial would take its label, and its job
    directory, from under it.
    """

    def __init__(self, label: str, why: str) -> None:
        super().__init__(
            f"an earlier trial of this processor on this session is in the way: {label} {why}"
        )
        self.label = label


class StagingError(AspiderError):
    """An input cannot be staged: what is missing, or what went wrong, in one sentence."""


class InputsMissing(StagingError):
    """The task's declared inputs are not all there (a person must fix the data)."""


class OutputsMissing(AspiderError):
    """Declared outputs are missing or empty; `missing` names them."""

    def __init__(self, missing: list[str], declared: int) -> None:
        self.missing = missing
        self.none_present = len(missing) == declared
        super().__init__(", ".join(missing))


class UploadMismatch(AspiderError):
    """XNAT's listing disagrees with what was uploaded."""


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """
    The first real error inside a task group's exception group.

    A task group wraps whatever its body raised; callers act on the error itself (`XnatError`,
    `PbsError`, `LeaseLost`), so the engine unwraps once, where it opens the group.
    """
    first = group.exceptions[0]
    return first_error(first) if isinstance(first, BaseExceptionGroup) else first


def only_failure(exc: BaseException, kind: type[E] | tuple[type[E], ...]) -> E | None:
    """
    `exc` itself if it is a `kind`, or the first of a task group's failures if all are.

    Concurrent reads fail as an exception group; a person should read "XNAT: no such
    project", not a traceback of the group.
    """
    if isinstance(exc, kind):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        matched, rest = exc.split(kind)
        if matched is not None and rest is None:
            leaves = list(_leaves(matched))
            return leaves[0] if leaves and isinstance(leaves[0], kind) else None
    return None


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterator[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc
