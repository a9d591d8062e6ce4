"""
A run: every project given swept once (or until idle), with one XNAT client and one backend.

This is what `aspider run`, the demo and the service call. A project another sweep holds (the
lease) is skipped and reported; a project XNAT will not serve is reported and the others are
still swept. The settings decide the limits once, here (`plan_limits`, `sweep_options`).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from aspider._exceptions import LeaseHeld
from aspider.plan import Plan, PlanLimits, SessionPlan
from aspider.processors import Processor, with_overrides, with_stale_policy
from aspider.run.records.run_queue import RunQueue
from aspider.run.sweep import SweepOptions, SweepReport, SweepsFailed, sweep_until_done
from aspider.run.tasks.execute import JobOptions
from aspider.run.wiring import NETWORK, Wiring, open_backend
from aspider.settings import AspiderSettings

log = logging.getLogger("aspider.run")


class RunProgress(Protocol):
    """What a run tells whoever shows its progress (the CLI's live display, or nobody)."""

    def on_project(self, project: str) -> None: ...

    def on_plan(self, plan: Plan) -> None: ...

    def on_session(self, session: SessionPlan) -> None: ...

    def on_report(self, report: SweepReport) -> None: ...

    def on_notice(self, level: int, message: str) -> None: ...


class _Quiet:
    """No display: notices go to the log."""

    def on_project(self, project: str) -> None:
        pass

    def on_plan(self, plan: Plan) -> None:
        pass

    def on_session(self, session: SessionPlan) -> None:
        pass

    def on_report(self, report: SweepReport) -> None:
        pass

    def on_notice(self, level: int, message: str) -> None:
        log.log(level, "%s", message)


def plan_limits(settings: AspiderSettings) -> PlanLimits:
    """
    The queue limits as set (and the site's retry policy), except that the local executor is
    never unlimited.

    Local jobs start the moment they are submitted, on the engine's own machine: with no limit,
    a thousand new sessions would be a thousand jobs at once. Unset, it is the number of cores.
    """
    limits = settings.limits
    queued = limits.max_queued
    if queued is None and settings.cluster.executor == "local":
        queued = os.cpu_count() or 1
    return PlanLimits(queued, limits.max_queued_per_processor, settings.retry, settings.tune)


def sweep_options(settings: AspiderSettings, sessions: Sequence[str] = ()) -> SweepOptions:
    limits, cluster = settings.limits, settings.cluster
    return SweepOptions(
        limits=plan_limits(settings),
        job_options=JobOptions(cluster.queue, cluster.account, cluster.qos),
        container_dir=cluster.container_dir,
        sessions=tuple(sessions),
        transfers=limits.transfers,
        sessions_at_once=limits.sessions_at_once,
        keep_failed_days=cluster.keep_failed_days,
        history=settings.xnat.history,
    )


def for_project(
    settings: AspiderSettings, project: str, procs: Sequence[Processor]
) -> list[Processor]:
    """
    The processors a project runs: those its settings name, or all of them, each with the
    project's overrides (`projects.<P>.processors.<proctype>`) applied.

    Raises:
        ConfigError: an override does not fit its processor.
    """
    wanted = settings.processors_for(project)
    return [
        as_configured(settings, project, p) for p in procs if not wanted or p.proctype in wanted
    ]


def as_configured(settings: AspiderSettings, project: str, processor: Processor) -> Processor:
    """
    One processor as the project runs it, whether its settings name it or not (`aspider trial`
    tries a file from anywhere): the project's overrides applied, and its `rerun_stale`.

    Raises:
        ConfigError: an override does not fit the processor.
    """
    overrides = settings.overrides_for(project).get(processor.proctype, {})
    where = f"projects.{project}.processors.{processor.proctype}"
    return with_stale_policy(
        with_overrides(processor, overrides, where), settings.rerun_stale_for(project)
    )


@dataclass(frozen=True)
class RunEnding:
    """
    How a run ended, which is what its exit status says.

    A failure a later sweep of the same run put right (inputs staged at the second try, an
    upload retried, a session XNAT answered for again) is transient: listed, but the run did
    not end with it. What stands is a task whose last event was a failure, and the session
    errors of each project's last sweep.
    """

    failures: list[tuple[str, str]]  # (label, reason) still failed at the end
    session_errors: list[tuple[str, str, str]]  # (project, session, error) of the last sweeps
    transient: list[dict[str, str]]  # what failed and was put right later in the run
    # Tasks the last sweep of their project left to a later sweep because XNAT or the cluster
    # failed (not failed themselves, but not done): (project, label, reason).
    held_back: list[tuple[str, str, str]] = field(default_factory=list)


def run_ending(reports: Sequence[SweepReport]) -> RunEnding:
    """Replay the sweeps in order: a task's later success clears its earlier failure."""
    standing: dict[str, str] = {}
    transient: list[dict[str, str]] = []
    last_sweep: dict[str, SweepReport] = {}
    for report in reports:
        put_right = sorted(report.outcome.moved & standing.keys())
        transient += [{"label": label, "reason": standing.pop(label)} for label in put_right]
        standing.update(report.outcome.failures)
        if report.project in last_sweep:  # what the same project's sweep before left
            earlier = last_sweep[report.project]
            transient += [
                {"project": earlier.project, "label": label, "reason": reason}
                for label, reason in earlier.outcome.transient
            ]
            transient += [
                {"project": earlier.project, "session": s, "error": e}
                for s, e in earlier.session_errors
            ]
        last_sweep[report.project] = report
    # A label failed again in the sweep that moved it on is not put right: keep it standing.
    transient = [t for t in transient if t.get("label") not in standing]
    errors = [(r.project, s, e) for r in last_sweep.values() for s, e in r.session_errors]
    held = [(r.project, lab, why) for r in last_sweep.values() for lab, why in r.outcome.transient]
    return RunEnding(sorted(standing.items()), errors, transient, held)


SUMMARY_COLUMNS = ("created", "submitted", "adopted", "completed", "failed", "waiting", "rerun")


def summary_rows(reports: Sequence[SweepReport]) -> dict[str, dict[str, int]]:
    """
    proctype -> {what: count} over every sweep; "waiting" is the tasks still waiting for
    inputs after the last sweep that acted on them, not how often one was found waiting.
    """
    totals: Counter[tuple[str, str]] = Counter()
    waiting: dict[str, str] = {}  # label -> proctype
    for report in reports:
        totals.update(report.outcome.counts)
        for label in report.outcome.moved:
            waiting.pop(label, None)
        waiting.update(report.outcome.waiting)
    totals = Counter({key: n for key, n in totals.items() if key[1] != "waiting"})
    totals.update((proctype, "waiting") for proctype in waiting.values())
    rows: dict[str, dict[str, int]] = {}
    for (proctype, what), n in sorted(totals.items()):
        rows.setdefault(proctype, dict.fromkeys(SUMMARY_COLUMNS, 0))[what] = n
    return rows


@dataclass
class RunResult:
    reports: list[SweepReport] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # projects another sweep held (the lease)
    failed: dict[str, str] = field(default_factory=dict)  # projects left unswept at the end -> why

    @property
    def sessions_missing(self) -> str:
        """The sessions the run named that none of its projects has, in words ("" if none)."""
        said = [r.sessions_missing for r in self.reports]
        return said[0] if said and all(said) else ""

    @property
    def ending(self) -> RunEnding:
        return run_ending(self.reports)

    @property
    def ok(self) -> bool:
        """
        Nothing stands failed at the end: every task done or waiting on its job, every project
        swept. Transient failures of earlier sweeps do not count.
        """
        ending = self.ending
        stands = ending.failures or ending.session_errors or ending.held_back
        return not (stands or self.refused or self.failed)


async def execute_run(
    settings: AspiderSettings,
    projects: Sequence[str],
    procs: Sequence[Processor],
    *,
    wiring: Wiring = NETWORK,
    sessions: Sequence[str] = (),
    wait: bool = False,
    interval: float = 60.0,
    progress: RunProgress | None = None,
) -> RunResult:
    """Sweep each project (until idle with `wait`); a project that fails does not stop the rest."""
    shown: RunProgress = progress or _Quiet()
    result = RunResult()
    options = replace(sweep_options(settings, sessions), queue=RunQueue())  # one budget
    # XNAT first: if it does not answer, nothing is created on the cluster (not even a lease).
    async with wiring.open_xnat(settings, projects) as xnat, open_backend(settings) as backend:
        for project in projects:
            shown.on_project(project)
            try:
                result.reports += await sweep_until_done(
                    xnat,
                    backend,
                    project,
                    for_project(settings, project, procs),
                    options,
                    interval=interval,
                    max_sweeps=None if wait else 1,
                    on_report=shown.on_report,
                    on_plan=shown.on_plan,
                    on_session=shown.on_session,
                )
            except LeaseHeld as exc:
                shown.on_notice(logging.WARNING, f"skipped {exc}")
                result.refused.append(project)
            except SweepsFailed as exc:  # one project XNAT will not serve must not stop the night
                shown.on_notice(logging.ERROR, str(exc))
                result.reports += exc.reports
                result.failed[project] = str(exc).removeprefix(f"project {project}: ")
    return result
