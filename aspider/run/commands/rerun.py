"""
Sending tasks back to NEED_TO_RUN by hand (`aspider rerun`); the next sweep resubmits them.
Each task's history says who sent it back and when (`asker`, the request's own entry).

In two steps, so a person sees what will go back before anything does: `choose_rerun` reads
the project and picks the tasks (changing nothing), `send_back` writes exactly the chosen ones
that are still eligible when it runs.

A task whose job may still run is left alone unless asked (`cancel`, `aspider rerun --cancel`):
then its job is cancelled first, all such jobs in one scheduler command, an array's element
alone (`scancel 123_7`, `qdel 123[7]`), and its history says so.

`stale` (`aspider rerun --stale`) chooses only the stale results (`aspider.plan.find_stale`,
from the same snapshot, no request more), and each one's history says why it was stale.
"""

from __future__ import annotations

import getpass
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aspider.plan import IN_FLIGHT, ProcStatus, find_stale, normalise_procstatus
from aspider.processors import Processor
from aspider.run.records.workflow_history import (
    History,
    Step,
    entry,
    rerun_requested,
    sent_back_note,
)
from aspider.run.wiring import NETWORK, Wiring, open_backend
from aspider.settings import AspiderSettings
from xnat_client import (
    Assessor,
    AssessorFields,
    Credentials,
    ProjectSnapshot,
    XnatClient,
    XnatError,
)


@dataclass(frozen=True)
class RerunTask:
    """One task that would go back: where it is, and what it is now."""

    label: str
    proctype: str
    session: str
    procstatus: str
    session_id: str
    assessor_id: str
    job_id: str = ""  # the job cancelled before it goes back (`cancel`); "" for none
    stale: str = ""  # why it is stale, when chosen as stale (`stale`)


@dataclass
class RerunResult:
    chosen: list[RerunTask] = field(default_factory=list)
    left_running: list[str] = field(default_factory=list)

    @property
    def sent_back(self) -> list[str]:
        return [t.label for t in self.chosen]

    @property
    def cancelled_jobs(self) -> list[str]:
        """The jobs cancelled (or, in a preview, to be cancelled) before their tasks go back."""
        return [t.job_id for t in self.chosen if t.job_id]

    @property
    def confirmed(self) -> dict[str, str]:
        """label -> the job shown to be cancelled ("" none): what a person says yes to."""
        return {t.label: t.job_id for t in self.chosen}


def choose_rerun(
    snapshot: ProjectSnapshot,
    proctypes: Collection[str],
    statuses: Sequence[str],
    sessions: Sequence[str],
    *,
    cancel: bool = False,
    stale: Sequence[Processor] | None = None,
) -> RerunResult:
    """
    The tasks of our processors that match, and those left alone because their job may run.
    With `stale` (the project's processors as it runs them), only their stale results.

    Only assessors of the loaded processors are touched: another pipeline's records are not
    ours to reset. A task whose job may still run (JOB_RUNNING, or its outputs on their way)
    is left alone: sent back, it would be submitted again beside the job still running, and
    the older job's outputs could then be taken for the new run's. With `cancel`, a task whose
    job is queued or running is chosen too, its job to be cancelled first (`_job_to_cancel`).
    """
    result = RerunResult()
    why = {r.assessor.id: r.text() for r in find_stale([snapshot], stale).stale} if stale else {}
    for where, a in snapshot.every_assessor():
        if stale is not None and a.id not in why:
            continue
        if sessions and (not a.session_id or where not in sessions):
            continue  # a subject's own assessor belongs to no session
        if a.proctype not in proctypes:
            continue
        if statuses and a.procstatus.upper() not in statuses:
            continue
        job_id = _job_to_cancel(a, cancel)
        if normalise_procstatus(a.procstatus) in IN_FLIGHT and not job_id:
            result.left_running.append(a.label)
            continue
        result.chosen.append(
            RerunTask(
                a.label,
                a.proctype,
                where,
                a.procstatus,
                a.session_id,
                a.id,
                job_id,
                why.get(a.id, ""),
            )
        )
    return result


def _job_to_cancel(a: Assessor, cancel: bool) -> str:
    """
    The job `cancel` stops before the task goes back: a JOB_RUNNING task's recorded job (an
    array's element, `123_7`, is its own job: only it is cancelled). "" (the task is left
    alone) for one whose outputs are on their way (READY_TO_UPLOAD, UPLOADING: its job has
    ended, and no cancel stops an upload), and for an older engine's intent with no job id.
    """
    if cancel and normalise_procstatus(a.procstatus) is ProcStatus.JOB_RUNNING:
        return a.jobid
    return ""


async def read_rerun(
    settings: AspiderSettings,
    project: str,
    proctypes: Collection[str],
    statuses: Sequence[str],
    sessions: Sequence[str],
    *,
    cancel: bool = False,
    stale: Sequence[Processor] | None = None,
    wiring: Wiring = NETWORK,
) -> RerunResult:
    """What `send_back` would send back now (and which jobs it would cancel); changes nothing."""
    async with wiring.open_xnat(settings, [project]) as xnat:
        snapshot = await xnat.project_snapshot(project, subject_assessors=True)
    return choose_rerun(snapshot, proctypes, statuses, sessions, cancel=cancel, stale=stale)


async def send_back(
    settings: AspiderSettings,
    project: str,
    proctypes: Collection[str],
    statuses: Sequence[str],
    sessions: Sequence[str],
    *,
    only: Collection[str] | None = None,
    cancel: bool = False,
    stale: Sequence[Processor] | None = None,
    wiring: Wiring = NETWORK,
) -> RerunResult:
    """
    Send back the tasks that match (and are in `only`, the labels a person confirmed).

    The project is read again first: a task whose job started since it was shown is left
    alone, and a task that appeared since is not sent back unasked. With `cancel`, the jobs of
    the tasks whose job may still run are cancelled first (`_cancel_jobs`); `only` as a
    mapping (`RerunResult.confirmed`) cancels no job but the one shown for each task.

    Raises:
        PbsError: the jobs could not be cancelled; nothing was sent back.
    """
    async with wiring.open_xnat(settings, [project]) as xnat:
        who = asker(settings)  # once the client opened: its settings were good
        snapshot = await xnat.project_snapshot(project, subject_assessors=True)
        result = choose_rerun(snapshot, proctypes, statuses, sessions, cancel=cancel, stale=stale)
        if only is not None:
            result.chosen = [t for t in result.chosen if t.label in only]
        _leave_unshown_jobs(result, only)
        await _cancel_jobs(settings, result.cancelled_jobs)
        history = History(xnat, enabled=settings.xnat.history)
        for task in result.chosen:
            await _send_back_one(xnat, history, project, task, who)
    return result


def _leave_unshown_jobs(result: RerunResult, only: Collection[str] | None) -> None:
    """
    A task whose job is not the one a person was shown (one started, or was resubmitted,
    since) is left alone: no job is cancelled unseen.
    """
    if not isinstance(only, Mapping):
        return
    changed = [t for t in result.chosen if t.job_id != only[t.label]]
    result.chosen = [t for t in result.chosen if t not in changed]
    result.left_running += [t.label for t in changed]


async def _cancel_jobs(settings: AspiderSettings, job_ids: list[str]) -> None:
    """
    The jobs, in one batched command through the configured executor (`scancel 123_7`,
    `qdel 123[7]`): an array's element by its own id, so its array's other elements run on.
    A job that already ended is no error. No connection to the cluster when there are none.
    """
    if job_ids:
        async with open_backend(settings) as backend:
            await backend.cancel(job_ids)


async def _send_back_one(
    xnat: XnatClient, history: History, project: str, task: RerunTask, who: str
) -> None:
    """
    NEED_TO_RUN, with who asked and when in the note (the sweep's rerun entry repeats them),
    then the request's own history entry: a task sent back with no outputs to remove is
    submitted with no rerun entry of its own, and the request is a step a person took.
    """
    moment = datetime.now()
    said = sent_back_note(who, moment)
    fields = AssessorFields(procstatus=ProcStatus.NEED_TO_RUN.value, note=said)
    await xnat.update_assessor(task.session_id, task.assessor_id, fields)
    why = rerun_requested(_asked(task), who)
    where = (task.proctype, project, task.assessor_id)
    status = ProcStatus.NEED_TO_RUN
    await history.write(entry(*where, Step.RERUN, status, note=said, when=moment, said=why))


def _asked(task: RerunTask) -> str:
    """What the person asked, for the history: from which status, and the job cancelled."""
    if task.stale:
        return f"aspider rerun --stale (was {task.procstatus}; stale: {task.stale})"
    if task.job_id:
        return f"aspider rerun --cancel (was {task.procstatus}; job {task.job_id} cancelled)"
    return f"aspider rerun (was {task.procstatus or 'no status'})"


def asker(settings: AspiderSettings) -> str:
    """
    Who sends tasks back, as their history names them: the XNAT account the client logs in
    with (the settings' user, else netrc's, as the client picks), or, for an alias token
    (which names no person) or no account, this machine's login. Never a secret.
    """
    xnat = settings.xnat
    if xnat.alias and xnat.secret is not None:
        return _login()
    if xnat.user and xnat.resolved_password() is not None:
        return xnat.user
    try:
        found = Credentials.from_netrc(xnat.url, xnat.netrc) if xnat.url else None
    except XnatError:
        found = None  # an unreadable netrc: the client says so when it opens
    return found.user if found is not None else _login()


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment
        return "an unnamed user"
