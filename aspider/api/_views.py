"""
What the API returns: plain, frozen objects with a `to_dict()`, built from the engine's own
answers, so a notebook never holds an internal type whose shape may change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class _Plain:
    """`to_dict()` for every view: JSON-ready data, as the CLI's `--json` prints it."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = asdict(self)  # type: ignore[call-overload]
        return data


@dataclass(frozen=True)
class InputView(_Plain):
    """One input of a task: what it is in XNAT and the files it stages."""

    name: str
    kind: str  # scan, assessor, ...
    scan: str | None
    assessor: str | None
    session: str | None
    resources: tuple[dict[str, Any], ...]  # resource, fmatch, fdest, files (count)


@dataclass(frozen=True)
class TaskView(_Plain):
    """
    One processor on one scan, session, subject or project: the notes' `GenericSpiderJob`.

    `applies` says whether the processor runs here at all (`reasons` say why not); `can_run`
    whether its inputs are there (`reasons` say what is missing); `status` is the assessor's
    procstatus in XNAT (None: not there yet) and `has_run` whether it completed; `next` is what
    the next sweep does about it (create, submit, finalize, ...; empty: nothing).
    """

    label: str
    project: str
    session: str
    proctype: str
    level: str
    applies: bool
    can_run: bool
    reasons: tuple[str, ...]
    inputs: tuple[InputView, ...]
    status: str | None
    has_run: bool
    job_id: str | None
    note: str
    walltime: str  # HH:MM:SS asked for
    memory_mb: int  # asked for
    next: tuple[str, ...]


@dataclass(frozen=True)
class ActionView(_Plain):
    """One action a sweep takes (or would take)."""

    kind: str
    project: str
    session: str
    label: str
    proctype: str
    reason: str


@dataclass(frozen=True)
class PlanView(_Plain):
    """What a sweep would do: the dry run."""

    actions: tuple[ActionView, ...]
    deferred: tuple[str, ...]  # labels whose submission waits for room in the queue
    in_queue: int  # our jobs queued or running before the sweep


@dataclass(frozen=True)
class SweepView(_Plain):
    """What a run did: counts by processor and what still stands failed."""

    by_processor: dict[str, dict[str, int]]
    failures: tuple[tuple[str, str], ...]  # (label, reason) still failed at the end
    refused: tuple[str, ...]  # projects another sweep held
    failed_projects: dict[str, str]
    ok: bool


@dataclass(frozen=True)
class StatusView(_Plain):
    """How a project's tasks stand: counts by processor and status, and what needs a person."""

    project: str
    counts: dict[str, dict[str, int]]
    attention: tuple[dict[str, Any], ...]  # failed or blocked tasks with their reasons


@dataclass(frozen=True)
class StaleView(_Plain):
    """
    A result still COMPLETE in XNAT but made from what has changed since (`aspider status
    --stale`): an input resource's files, an upstream result (rerun, or stale itself), the
    processor's definition, or an input gone. `aspider rerun --stale` sends it back.

    `kinds` are those of its reasons (inputs, upstream, processor, gone), `reason` every reason
    in one line as `status --stale` prints it. `session` is the session's label (a subject's
    own result: the subject's); `assessor_id` is XNAT's ID, for a link or a request.
    """

    project: str
    session: str
    label: str
    proctype: str
    kinds: tuple[str, ...]
    reason: str
    assessor_id: str


@dataclass(frozen=True)
class TrialView(_Plain):
    """
    A trial (`aspider trial`): each of its tasks as it ended, and what a real sweep does for
    the processor on the session. `tasks`: label, procstatus, job_id, reason, log_tail and
    outputs (resource, name, size as XNAT lists them); `sweep`: the processor as `explain`
    sees it there. `to_dict()` is the document `aspider trial --json` prints.
    """

    project: str
    session: str
    processor: str  # the proctype a sweep runs it as
    proctype: str  # the trial's: TRIAL_<processor>
    source: str
    ok: bool  # a task ran and completed, none failed
    tasks: tuple[dict[str, Any], ...]
    sweep: dict[str, Any]
    kept: bool
    removed: tuple[str, ...]
    not_removed: tuple[str, ...]
    errors: tuple[str, ...]
