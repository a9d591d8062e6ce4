"""
Sending tasks back to NEED_TO_RUN by hand (`aspider rerun`); the next sweep resubmits them.
Each task's history says who sent it back and when (`asker`, the request's own entry).

In two steps, so a person sees what will go back before anything does: `choose_rerun` reads
the project and picks the tasks (changing nothing), `send_back` writes exactly the chosen ones
that are still eligible when it runs.
"""

from __future__ import annotations

import getpass
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aspider.plan import IN_FLIGHT, ProcStatus, normalise_procstatus
from aspider.run.records.workflow_history import (
    History,
    Step,
    entry,
    rerun_requested,
    sent_back_note,
)
from aspider.run.wiring import NETWORK, Wiring
from aspider.settings import AspiderSettings
from xnat_client import AssessorFields, Credentials, ProjectSnapshot, XnatClient, XnatError


@dataclass(frozen=True)
class RerunTask:
    """One task that would go back: where it is, and what it is now."""

    label: str
    proctype: str
    session: str
    procstatus: str
    session_id: str
    assessor_id: str


@dataclass
class RerunResult:
    chosen: list[RerunTask] = field(default_factory=list)
    left_running: list[str] = field(default_factory=list)

    @property
    def sent_back(self) -> list[str]:
        return [t.label for t in self.chosen]


def choose_rerun(
    snapshot: ProjectSnapshot,
    proctypes: Collection[str],
    statuses: Sequence[str],
    sessions: Sequence[str],
) -> RerunResult:
    """
    The tasks of our processors that match, and those left alone because their job may run.

    Only assessors of the loaded processors are touched: another pipeline's records are not
    ours to reset. A task whose job may still run (JOB_RUNNING, or its outputs on their way)
    is left alone: sent back, it would be submitted again beside the job still running, and
    the older job's outputs could then be taken for the new run's.
    """
    result = RerunResult()
    for where, a in snapshot.every_assessor():
        if sessions and (not a.session_id or where not in sessions):
            continue  # a subject's own assessor belongs to no session
        if a.proctype not in proctypes:
            continue
        if statuses and a.procstatus.upper() not in statuses:
            continue
        if normalise_procstatus(a.procstatus) in IN_FLIGHT:
            result.left_running.append(a.label)
            continue
        result.chosen.append(
            RerunTask(a.label, a.proctype, where, a.procstatus, a.session_id, a.id)
        )
    return result


async def read_rerun(
    settings: AspiderSettings,
    project: str,
    proctypes: Collection[str],
    statuses: Sequence[str],
    sessions: Sequence[str],
    *,
    wiring: Wiring = NETWORK,
) -> RerunResult:
    """What `send_back` would send back now; changes nothing."""
    async with wiring.open_xnat(settings, [project]) as xnat:
        snapshot = await xnat.project_snapshot(project, subject_assessors=True)
    return choose_rerun(snapshot, proctypes, statuses, sessions)


async def send_back(
    settings: AspiderSettings,
    project: str,
    proctypes: Collection[str],
    statuses: Sequence[str],
    sessions: Sequence[str],
    *,
    only: Collection[str] | None = None,
    wiring: Wiring = NETWORK,
) -> RerunResult:
    """
    Send back the tasks that match (and are in `only`, the labels a person confirmed).

    The project is read again first: a task whose job started since it was shown is left
    alone, and a task that appeared since is not sent back unasked.
    """
    async with wiring.open_xnat(settings, [project]) as xnat:
        who = asker(settings)  # once the client opened: its settings were good
        snapshot = await xnat.project_snapshot(project, subject_assessors=True)
        result = choose_rerun(snapshot, proctypes, statuses, sessions)
        if only is not None:
            result.chosen = [t for t in result.chosen if t.label in only]
        history = History(xnat, enabled=settings.xnat.history)
        for task in result.chosen:
            await _send_back_one(xnat, history, project, task, who)
    return result


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
    why = rerun_requested(f"aspider rerun (was {task.procstatus or 'no status'})", who)
    where = (task.proctype, project, task.assessor_id)
    status = ProcStatus.NEED_TO_RUN
    await history.write(entry(*where, Step.RERUN, status, note=said, when=moment, said=why))


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
