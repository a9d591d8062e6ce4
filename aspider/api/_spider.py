"""
Spider: aspider from Python, for notebooks and scripts, on the engine's one planning path.

Every answer comes from what the commands use: `tasks` and `explain` from the plan that
`explain` filters, `plan` from the dry run, `sweep` from `run`, `status` from `status`, `stale`
from `status --stale` (the same judge over the same processors). So the API and the command
line cannot disagree, and `tests/doors` checks that they do not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aspider._exceptions import ConfigError
from aspider.api._views import (
    ActionView,
    InputView,
    PlanView,
    StaleView,
    StatusView,
    SweepView,
    TaskView,
    TrialView,
)
from aspider.plan import (
    NEEDS_ATTENTION,
    ProcessorExplanation,
    ProcessorUsage,
    StaleResult,
    explain_session,
    find_stale,
    normalise_procstatus,
)
from aspider.processors import Processor, format_duration, is_named, is_trial, load_processors
from aspider.run import (
    NETWORK,
    Wiring,
    execute_run,
    for_project,
    preview,
    read_usage,
    summary_rows,
    try_processor,
)
from aspider.settings import AspiderSettings, find_settings_file, load_settings
from xnat_client import ProjectSnapshot

ProcessorChoice = str | Processor | Sequence[str | Processor] | None


class Spider:
    """
    The engine for one site's settings.

    Args:
        settings: the resolved settings (`Spider.from_settings` reads them as the CLI does).
        wiring: how XNAT is reached; the network by default (tests pass the sandbox's).

    Each call opens what it needs (XNAT, the cluster) and closes it before returning, so a
    `Spider` holds no connection between calls; `async with` is there for symmetry and to
    check the settings once.
    """

    def __init__(self, settings: AspiderSettings, *, wiring: Wiring = NETWORK) -> None:
        self.settings = settings
        self._wiring = wiring

    @classmethod
    def from_settings(
        cls, path: str | Path | None = None, *, wiring: Wiring = NETWORK, **overrides: Any
    ) -> Spider:
        """Settings as the CLI finds them (`path`, $ASPIDER_SETTINGS, ./aspider.yaml, ...)."""
        found = find_settings_file(Path(path) if path is not None else None)
        return cls(load_settings(found, overrides or None), wiring=wiring)

    async def __aenter__(self) -> Self:
        self.processors()  # a settings or processor mistake surfaces here, not mid-loop
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def processors(self, choice: ProcessorChoice = None) -> list[Processor]:
        """
        The configured processors, or those chosen: names (proctype, or name without version)
        or `Processor` objects, which are used as given.

        Raises:
            ConfigError: a name no configured processor has.
        """
        chosen = (
            []
            if choice is None
            else [choice]
            if isinstance(choice, str | Processor)
            else list(choice)
        )
        objects = [c for c in chosen if isinstance(c, Processor)]
        names = [c for c in chosen if isinstance(c, str)]
        if objects and not names:
            return objects
        loaded = load_processors(self.settings.processor_paths, self.settings.processor_classes)
        if not names:
            return loaded
        picked = [p for p in loaded if is_named(p, names)]
        missing = [n for n in names if not any(is_named(p, [n]) for p in picked)]
        if missing:
            known = ", ".join(p.proctype for p in loaded)
            raise ConfigError(f"no processor named {', '.join(missing)}; loaded: {known}")
        return [*picked, *objects]

    async def tasks(
        self, project: str, processor: ProcessorChoice = None, session: str | None = None
    ) -> list[TaskView]:
        """
        Every task of the project's processors (or those chosen), on every session or one:
        whether it applies and can run, why not, its inputs, its status, what the next sweep
        does. The notes' `canRun()`, `hasRun()`, `getStatus()`, `getWalltime()`, `getMemReq()`.
        """
        procs = self.processors(processor)
        given = processor is not None and all(
            isinstance(p, Processor)
            for p in ([processor] if isinstance(processor, str | Processor) else processor)
        )
        seen = await preview(
            self.settings, [project], procs, wiring=self._wiring, every_match=True, as_given=given
        )
        snapshot = seen.snapshots[0]
        labels = [session] if session is not None else [s.label for s in snapshot.sessions]
        views: dict[str, TaskView] = {}
        for label in labels:
            if snapshot.session(label) is None:
                raise ConfigError(f"project {project} has no session labelled {label!r}")
            for item in explain_session(snapshot, label, seen.matches, seen.plan):
                for view in _task_views(snapshot, label, item, procs):
                    views.setdefault(view.label, view)
        return list(views.values())

    async def explain(
        self, project: str, session: str, processor: ProcessorChoice = None
    ) -> list[TaskView]:
        """`aspider explain`: the tasks of one session, each with why it stands where it does."""
        return await self.tasks(project, processor, session)

    async def plan(
        self,
        projects: str | Sequence[str],
        processors: ProcessorChoice = None,
        sessions: Sequence[str] = (),
    ) -> PlanView:
        """What a sweep would do, changing nothing (`aspider run --dry-run`)."""
        names = [projects] if isinstance(projects, str) else list(projects)
        procs = self.processors(processors)
        seen = await preview(self.settings, names, procs, sessions=sessions, wiring=self._wiring)
        actions = tuple(
            ActionView(
                a.kind, s.project, s.session_label, a.task.label, a.task.proctype, _reason(a)
            )
            for s in seen.plan.sessions
            for a in s.actions
        )
        return PlanView(actions, seen.plan.deferred, seen.plan.in_queue)

    async def sweep(
        self,
        projects: str | Sequence[str],
        processors: ProcessorChoice = None,
        sessions: Sequence[str] = (),
        *,
        wait: bool = False,
        interval: float = 60.0,
    ) -> SweepView:
        """
        One sweep of each project (`aspider run`), or sweeps until nothing is queued or running
        (`wait`): the notes' loops A (every project, every processor), B (one processor on one
        project) and C (every processor on one project).
        """
        names = [projects] if isinstance(projects, str) else list(projects)
        procs = self.processors(processors)
        result = await execute_run(
            self.settings,
            names,
            procs,
            wiring=self._wiring,
            sessions=sessions,
            wait=wait,
            interval=interval,
        )
        ending = result.ending
        return SweepView(
            summary_rows(result.reports),
            tuple(ending.failures),
            tuple(result.refused),
            dict(result.failed),
            result.ok,
        )

    async def usage(
        self,
        projects: str | Sequence[str],
        processor: ProcessorChoice = None,
        since_days: int | None = None,
    ) -> list[ProcessorUsage]:
        """What each processor's jobs used against what they asked, and the request to make
        (`aspider tune`): one snapshot per project."""
        names = [projects] if isinstance(projects, str) else list(projects)
        procs = self.processors(processor)
        return await read_usage(
            self.settings, names, procs, since_days=since_days, wiring=self._wiring
        )

    async def trial(
        self,
        processor_file: str | Path,
        project: str,
        session: str,
        *,
        keep: bool = False,
        interval: float = 15.0,
    ) -> TrialView:
        """
        Try a processor file on one session, end to end on the cluster (`aspider trial`): its
        assessor, typed `TRIAL_<proctype>`, is taken for a result by no sweep, count or
        processor, and is removed at the end unless `keep`. Waits for the job.
        """
        done = await try_processor(
            self.settings,
            processor_file,
            project,
            session,
            keep=keep,
            interval=interval,
            wiring=self._wiring,
        )
        data = done.to_dict()
        return TrialView(
            **{k: data[k] for k in ("project", "session", "processor", "proctype", "source")},
            ok=done.ok,
            tasks=tuple(data["tasks"]),
            sweep=data["sweep"],
            kept=done.kept,
            removed=done.removed,
            not_removed=done.not_removed,
            errors=done.errors,
        )

    async def status(self, project: str) -> StatusView:
        """How the project's tasks stand in XNAT (`aspider status --xnat-only`)."""
        async with self._wiring.open_xnat(self.settings, [project]) as xnat:
            snapshot = await xnat.project_snapshot(project)
        return _status(snapshot)

    async def stale(self, project: str, processor: ProcessorChoice = None) -> list[StaleView]:
        """
        The project's stale results, upstream before downstream (`aspider status --stale`):
        COMPLETE, but made from inputs, an upstream result or a processor definition that
        changed since, each with why. One snapshot; no job poll, nothing changed.

        They are judged by every processor of the project as its sweep runs them (its list and
        overrides), so a result stale only through its upstream is found whichever processor
        `processor` narrows the answer to (names, or objects by their proctype). A result with
        no record of what made it (DAX's) is never stale: "provenance unknown".

        Raises:
            ConfigError: the project has no processor to judge by, or a name none has.
        """
        ours = for_project(self.settings, project, self.processors())
        if not ours:
            raise ConfigError(
                f"project {project} has no processor configured, and a result is stale only "
                "against its processor: add one to processor_paths (or to "
                f"projects.{project}.processors)"
            )
        wanted = None if processor is None else {p.proctype for p in self.processors(processor)}
        async with self._wiring.open_xnat(self.settings, [project]) as xnat:
            snapshot = await xnat.project_snapshot(project, subject_assessors=True)
        found = find_stale([snapshot], ours).stale
        return [_stale_view(r) for r in found if wanted is None or r.proctype in wanted]


def _stale_view(result: StaleResult) -> StaleView:
    return StaleView(
        project=result.project,
        session=result.session,
        label=result.label,
        proctype=result.proctype,
        kinds=tuple(sorted(result.kinds)),
        reason=result.text(),
        assessor_id=result.assessor.id,
    )


def _task_views(
    snapshot: ProjectSnapshot, session: str, item: ProcessorExplanation, procs: Sequence[Processor]
) -> list[TaskView]:
    proc = next(p for p in procs if p.proctype == item.proctype)
    req = proc.spec.requirements
    views = []
    for t in item.tasks:
        a = t["assessor"] or {}
        inputs = tuple(
            InputView(
                i["name"], i["kind"], i["scan"], i["assessor"], i["session"], tuple(i["resources"])
            )
            for i in t["inputs"]
        )
        status = a.get("procstatus") or None
        views.append(
            TaskView(
                label=t["label"],
                project=snapshot.project,
                session=session,
                proctype=item.proctype,
                level=item.level,
                applies=item.applies,
                can_run=item.applies and bool(t["ready"]),
                reasons=tuple(t["reasons"]) or item.reasons,
                inputs=inputs,
                status=status,
                has_run=status == "COMPLETE",
                job_id=a.get("jobid") or None,
                note=a.get("note") or "",
                walltime=format_duration(req.walltime_seconds),
                memory_mb=req.memory_mb,
                next=tuple(t["planned"]),
            )
        )
    if not item.applies and not item.tasks:
        views.append(_not_applying(snapshot.project, session, item, proc))
    return views


def _not_applying(
    project: str, session: str, item: ProcessorExplanation, proc: Processor
) -> TaskView:
    """A processor that does not apply here, as a task with its reasons and no label."""
    req = proc.spec.requirements
    return TaskView(
        label=f"({item.proctype} on {session})",
        project=project,
        session=session,
        proctype=item.proctype,
        level=item.level,
        applies=False,
        can_run=False,
        reasons=item.reasons,
        inputs=(),
        status=None,
        has_run=False,
        job_id=None,
        note="",
        walltime=format_duration(req.walltime_seconds),
        memory_mb=req.memory_mb,
        next=(),
    )


def _reason(action: object) -> str:
    return str(getattr(action, "reason", "") or "")


def _status(snapshot: ProjectSnapshot) -> StatusView:
    counts: dict[str, Counter[str]] = {}
    attention: list[dict[str, Any]] = []
    for where, a in snapshot.every_assessor():
        if is_trial(a.proctype):
            continue  # a trial (`aspider trial`) is no task of the project's
        counts.setdefault(a.proctype, Counter())[a.procstatus or "(none)"] += 1
        if normalise_procstatus(a.procstatus) in NEEDS_ATTENTION:
            attention.append(
                {
                    "proctype": a.proctype,
                    "session": where,
                    "label": a.label,
                    "status": a.procstatus,
                    "qcstatus": a.qcstatus,
                    "reason": a.note,
                }
            )
    return StatusView(
        snapshot.project, {p: dict(c) for p, c in sorted(counts.items())}, tuple(attention)
    )
