"""
`aspider trial`: one processor on one session, end to end, on the configured executor, under a
name no sweep takes for a result.

A trial is sweeps, not a second pipeline. The processor (its file, from anywhere, with the
project's overrides applied as a sweep applies them: `as_configured`) is renamed
`TRIAL_<proctype>` (`aspider.processors.trial_of`), and that one processor is swept on that one
session (`sweep_project` with `sessions=(S,)`, as the service sweeps a session) until its tasks
end: the planner creates each assessor (`P-x-S-x-E-x-TRIAL_<proctype>-x-<8 hex>`, DAX's trial
form), and stages, submits, follows and finalizes it as it does any task, under the project's
lease. No sweep takes the assessor for a result: every selection of assessors is by exact
proctype, no processor may be named `TRIAL_...` nor take one as input, a trial's assessor is no
processor's input (`plan.artefacts`), and the status views leave trials out.

Before the first sweep, the processor as a real sweep runs it is explained on the session (the
`explain` of `preview`): a processor that does not apply there, or whose inputs are not there,
is not tried, and nothing is written. After the trial, each task's end, the last lines of its
log (OUTLOG, as uploaded), its outputs as XNAT lists them, and what a real sweep would do now.
Unless kept, the trial's assessors go at the end, after a failure or a Ctrl-C too (a job still
queued or running is cancelled first), and `say` tells what went and what could not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio

from aspider._exceptions import ConfigError, LeaseHeld, TrialInTheWay
from aspider.plan import ProcessorExplanation, ProcStatus, explain_session, normalise_procstatus
from aspider.processors import Processor, load_processor, trial_of
from aspider.run.backends import JobBackend
from aspider.run.commands.preview import preview
from aspider.run.commands.runner import as_configured, sweep_options
from aspider.run.commands.trial_ends import TrialTask, refuse_if_running, stop_jobs, task_end
from aspider.run.sweep import SweepOptions, SweepReport, sweep_project, unknown_sessions
from aspider.run.wiring import NETWORK, Wiring, open_backend
from aspider.settings import AspiderSettings
from xnat_client import Assessor, Session, XnatClient, XnatError

__all__ = ["ProcessorTrial", "TrialTask", "try_processor"]

log = logging.getLogger("aspider.run.trial")

Say = Callable[[str], None]

#: Where a trial's task stops: its end, or inputs the staging found missing (it cannot run).
_ENDED = frozenset(
    {ProcStatus.COMPLETE, ProcStatus.JOB_FAILED, ProcStatus.NO_DATA, ProcStatus.NEED_INPUTS}
)
#: Sweeps in a row that left the trial where it was for a failure of XNAT or the cluster (a
#: staging or a submission held back, a session error), after which the trial gives up.
STALLED_SWEEPS = 5


@dataclass(frozen=True)
class ProcessorTrial:
    """
    What a trial did: its tasks' ends, what a real sweep would do there, and what was removed.

    `tasks` is empty when the processor was not tried (it does not apply to the session, or its
    inputs are not there: `sweep` says why) or when XNAT or the cluster failed every sweep
    (`errors`).
    """

    project: str
    session: str
    processor: str  # the proctype a sweep runs it as
    proctype: str  # the trial's: TRIAL_<processor>
    source: str  # the processor file
    sweep: ProcessorExplanation  # what a real sweep does for the processor on the session
    tasks: tuple[TrialTask, ...] = ()
    kept: bool = False
    removed: tuple[str, ...] = ()  # what the end removed, in words
    not_removed: tuple[str, ...] = ()  # what it could not, and why
    errors: tuple[str, ...] = ()  # XNAT's or the cluster's failures that stopped the trial

    @property
    def ok(self) -> bool:
        """A task ran and completed, and none failed (one waiting for its inputs is no failure)."""
        ran = [t for t in self.tasks if t.procstatus != ProcStatus.NEED_INPUTS.value]
        return bool(ran) and all(t.procstatus == ProcStatus.COMPLETE.value for t in ran)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, as `aspider trial --json` prints it."""
        data = asdict(self)
        data["sweep"]["can_run"] = self.sweep.can_run
        return {**data, "ok": self.ok}


async def try_processor(
    settings: AspiderSettings,
    processor_file: str | Path,
    project: str,
    session: str,
    *,
    keep: bool = False,
    interval: float = 15.0,
    wiring: Wiring = NETWORK,
    say: Say | None = None,
) -> ProcessorTrial:
    """
    Try the processor of `processor_file` on one session (label or ID) until its tasks end.

    Raises:
        ProcessorError: the file is not a valid processor (file:line: field).
        ConfigError: the project's overrides do not fit it, or the session is not there.
        TrialInTheWay: an earlier trial of it on the session is under way, or cannot go.
        XnatError, PbsError: XNAT or the cluster failed outside a sweep's sessions.
    """
    proc = as_configured(settings, project, load_processor(processor_file))
    trial = trial_of(proc)
    where, scope, before = await sweep_outlook(settings, project, session, proc, wiring)
    result = ProcessorTrial(
        project, where.label, proc.proctype, trial.proctype, proc.source, before
    )
    if not before.can_run:
        return result
    # No chain (one processor has no downstream here); XNAT's History of the session is told
    # of a trial only when it stays: the entries would outlive an assessor removed at the end.
    history = keep and settings.xnat.history
    options = replace(sweep_options(settings, scope), chain=False, history=history)
    async with wiring.open_xnat(settings, [project]) as xnat, open_backend(settings) as backend:
        run = TrialRun(xnat, backend, project, where, trial, say or _logged)
        await run.clear_earlier()
        try:
            ended = await run.until_ended(options, interval)
            tasks = tuple([await task_end(xnat, a) for a in ended])
        finally:
            if not keep:
                await run.remove()
    _, _, after = await sweep_outlook(settings, project, where.label, proc, wiring)
    return replace(
        result,
        sweep=after,
        tasks=tasks,
        kept=keep,
        removed=tuple(run.removed),
        not_removed=tuple(run.not_removed),
        errors=tuple(run.errors),
    )


async def sweep_outlook(
    settings: AspiderSettings, project: str, session: str, proc: Processor, wiring: Wiring
) -> tuple[Session, tuple[str, ...], ProcessorExplanation]:
    """
    The session; the sessions a sweep of the processor there must see (the session, or every
    session of its subject for a subject-level processor); and what a real sweep does there for
    the processor as the project runs it (the `explain` of the dry run). A trial's assessor
    changes nothing of it.

    Raises:
        ConfigError: the project has no such session (with the nearest labels it has).
    """
    subject_level = proc.level == "subject"
    seen = await preview(
        settings,
        [project],
        [proc],
        sessions=[] if subject_level else [session],
        wiring=wiring,
        every_match=True,
        as_given=True,  # configured already, and tried whether the project names it or not
    )
    snapshot = seen.snapshots[0]
    found = next((s for s in snapshot.sessions if session in (s.label, s.id)), None)
    if found is None:
        raise ConfigError(unknown_sessions([snapshot], [session]))
    scope = tuple(
        s.label
        for s in snapshot.sessions
        if s.id == found.id or (subject_level and s.subject_id == found.subject_id)
    )
    explained = explain_session(snapshot, found.label, seen.matches, seen.plan)
    if explained:
        return found, scope, explained[0]
    why = (f"no {proc.level}-level scope of {proc.proctype} includes session {found.label}",)
    none = ProcessorExplanation(proc.proctype, proc.procversion, proc.level, False, why, (), ())
    return found, scope, none


def _logged(line: str) -> None:
    log.info("%s", line)


@dataclass
class TrialRun:
    """One trial under way: its sweeps, what they made, and its removal at the end."""

    xnat: XnatClient
    backend: JobBackend
    project: str
    session: Session
    trial: Processor
    say: Say
    planned: set[str] = field(default_factory=set)  # labels the sweeps planned for
    removed: list[str] = field(default_factory=list)
    not_removed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def assessors(self) -> list[Assessor]:
        """The trial's assessors as XNAT holds them now (the session's, or its subject's own)."""
        if self.trial.level == "subject":
            snapshot = await self.xnat.project_snapshot(self.project, subject_assessors=True)
            found: Sequence[Assessor] = [
                a for a in snapshot.subject_assessors if a.subject_id == self.session.subject_id
            ]
        else:
            now = await self.xnat.session_snapshot(self.project, self.session.label)
            found = now.assessors if now is not None else ()
        return [a for a in found if a.proctype == self.trial.proctype]

    async def clear_earlier(self) -> None:
        """
        An earlier trial's assessors (kept for review, or left by a trial that was killed) go:
        this trial's tasks take their labels. One whose job is still queued or running is
        another trial under way, and stops this one.

        Raises:
            TrialInTheWay: an earlier trial's job is still in the queue, or its job
                directory could not be removed.
            XnatError: its assessor could not be deleted.
        """
        earlier = await self.assessors()
        if not earlier:
            return
        await refuse_if_running(self.backend, earlier)
        problems = await stop_jobs(self.backend, earlier)
        if problems:  # its job directory left behind would be read as this trial's
            label = ", ".join(a.label for a in earlier)
            raise TrialInTheWay(label, f"could not be removed: {'; '.join(problems)}")
        for a in earlier:
            await self.xnat.delete_assessor(a.session_id, a.id)
            self.removed.append(f"the earlier trial's {a.label} ({a.procstatus or 'no status'})")
            self.say(f"removed the earlier trial's {a.label} from XNAT")

    async def until_ended(self, options: SweepOptions, interval: float) -> list[Assessor]:
        """
        Sweep the trial's one session until each of its tasks ended (or cannot run), or until
        XNAT or the cluster kept `STALLED_SWEEPS` sweeps in a row from moving it on (`errors`).
        """
        told: dict[str, tuple[str, str]] = {}
        stalled = 0
        while True:
            report = await self._sweep(options, interval)
            found = await self.assessors()
            self._tell(found, told)
            problems = self._held_back(report, found)
            stalled = stalled + 1 if problems else 0
            if found and all(normalise_procstatus(a.procstatus) in _ENDED for a in found):
                return found
            if stalled >= STALLED_SWEEPS:
                gave_up = f"{stalled} sweeps in a row could not move the trial on"
                self.errors += [*problems, gave_up]
                return found
            await anyio.sleep(interval)

    async def _sweep(self, options: SweepOptions, interval: float) -> SweepReport:
        """One sweep of the trial; another sweep holding the project is waited for."""
        while True:
            try:
                return await sweep_project(
                    self.xnat,
                    self.backend,
                    self.project,
                    [self.trial],
                    options,
                    on_plan=lambda plan: self.planned.update(a.task.label for a in plan.actions()),
                )
            except LeaseHeld as exc:
                self.say(f"waiting: {exc}")
                await anyio.sleep(interval)

    def _held_back(self, report: SweepReport, found: list[Assessor]) -> list[str]:
        """What kept this sweep from moving the trial on (XNAT, the cluster), each said."""
        problems = [f"session {session}: {error}" for session, error in report.session_errors]
        problems += [f"{label}: held back: {why}" for label, why in report.outcome.transient]
        if not found and not problems:
            problems.append("the sweep made no assessor for the trial")
        for problem in problems:
            self.say(problem)
        return problems

    def _tell(self, found: list[Assessor], told: dict[str, tuple[str, str]]) -> None:
        """Each task's status and job, when they change."""
        for a in found:
            now = (a.procstatus, a.jobid)
            if told.get(a.label) != now:
                told[a.label] = now
                job = f", job {a.jobid}" if a.jobid else ""
                self.say(f"{a.label}: {a.procstatus}{job}")

    async def remove(self) -> None:
        """
        Everything the trial made goes: its jobs cancelled, its assessors deleted from XNAT, its
        job directories removed. Best effort, shielded from the Ctrl-C that may have led here;
        what could not go is said and kept in `not_removed`.
        """
        with anyio.move_on_after(120, shield=True) as scope:
            try:
                found = await self.assessors()
            except XnatError as exc:  # said; its jobs and job directories still go
                self.not_removed.append(f"the trial's assessors could not be read: {exc}")
                found = []
            self.not_removed += await stop_jobs(self.backend, found, self.planned)
            await self._remove(found)
        if scope.cancelled_caught:
            self.not_removed.append("removing the trial took over 120 s and was left unfinished")
        for problem in self.not_removed:
            self.say(f"not removed: {problem}")

    async def _remove(self, found: list[Assessor]) -> None:
        """Delete the trial's assessors from XNAT, each said; one that will not go is kept."""
        for a in found:
            try:
                await self.xnat.delete_assessor(a.session_id, a.id)
            except XnatError as exc:  # said, and the others still go
                self.not_removed.append(f"{a.label}: {exc}; delete it in XNAT")
                continue
            self.removed.append(f"the trial's {a.label} ({a.procstatus or 'no status'})")
            self.say(f"removed the trial's {a.label} from XNAT")
