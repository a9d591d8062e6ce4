"""
Each assessor's status history, kept in XNAT as workflow entries (XNAT's History tab).

Every transition the executor records (created, waiting, submitted with its job id, running,
failed with the reason, resubmitted, uploading, complete, rerun requested, held back) becomes
ONE workflow entry about the assessor (`wrk:workflowData`: ID = the assessor, pipeline_name =
its proctype, XNAT's status word, the procstatus as the step id, what happened as the step
description), written right after the status write it describes. The status write is the
state of record; the entry is its trace: an entry that cannot be written is logged and the
task goes on. An account XNAT will not let write entries (403) gets one warning, and no
further attempt from that client: the request budget of a shared XNAT is not spent on them.

Entries are listed in the order they were written (XNAT's key), which is the order aspider
learnt of the transitions. A job's start is learnt only when the job is seen ended, so it is
no entry of its own: the end's entry says where and when the job ran (`details`).

An entry says why, in one line a person reads in the History tab without opening the note: a
failure its reason (not the log tail, nor the attempts record: both stay in `comments`), a
resubmission what ended the job before it and with what it is sent again
("job 123 was killed for memory at 128 MB; resubmitted with 256 MB as job 124"), a rerun who
asked for it and why ("rerun requested by admin: aspider rerun (was JOB_FAILED)").
"""

from __future__ import annotations

import logging
import re
import weakref
from collections import OrderedDict
from datetime import datetime, timedelta
from enum import StrEnum

import anyio

from aspider.plan import ProcStatus, Task
from aspider.plan.retry import Attempt, Attempts, without_head
from xnat_client import PROC_XSI_TYPE, AssessorFields, Forbidden, Workflow, XnatClient, XnatError

log = logging.getLogger("aspider.run.records.workflow_history")

DESCRIPTION_LIMIT = 255  # characters of step_description (XNAT keeps the rest out)


class Step(StrEnum):
    """What happened to an assessor, as its history tells it."""

    CREATED = "created"
    WAITING = "waiting"
    READY = "ready"
    HELD = "held back"
    SUBMITTED = "submitted"
    RESUBMITTED = "resubmitted"
    ADOPTED = "job found"
    RUNNING = "running"
    FAILED = "failed"
    UPLOADING = "uploading"
    COMPLETE = "complete"
    RERUN = "rerun requested"


# XNAT's words for a workflow's status, by the procstatus the step leaves the assessor in.
_XNAT_STATUS = {
    ProcStatus.NEED_INPUTS: "Awaiting Action",
    ProcStatus.NEED_TO_RUN: "Queued",
    ProcStatus.JOB_RUNNING: "Queued",
    ProcStatus.READY_TO_UPLOAD: "Running",
    ProcStatus.UPLOADING: "Running",
    ProcStatus.COMPLETE: "Complete",
    ProcStatus.JOB_FAILED: "Failed",
    ProcStatus.NO_DATA: "Complete",
}


def step_of(fields: AssessorFields, *, created: bool = False) -> Step | None:
    """
    The step a status write records, from what it writes; None for a write that is no step
    of its own (the intent before a submission: its job id, written next, is the step).
    """
    status = ProcStatus(fields.procstatus) if fields.procstatus else None
    if status is None:
        return Step.ADOPTED if fields.jobid else None
    if status is ProcStatus.JOB_RUNNING:
        return Step.SUBMITTED if fields.jobid else None
    if created:
        return Step.CREATED
    held = Step.HELD if fields.note else None
    return {
        ProcStatus.NEED_INPUTS: Step.WAITING,
        ProcStatus.NEED_TO_RUN: held or Step.READY,
        ProcStatus.JOB_FAILED: Step.FAILED,
        ProcStatus.UPLOADING: held or Step.UPLOADING,
        ProcStatus.READY_TO_UPLOAD: Step.UPLOADING,
        ProcStatus.COMPLETE: Step.COMPLETE,
    }.get(status)


def describe(step: Step, status: ProcStatus | None, note: str, job_id: str, node: str = "") -> str:
    """One line of what happened, as the History shows it."""
    job = f"job {job_id}" if job_id else "the job"
    said = {
        Step.CREATED: "created, ready to run"
        if status is ProcStatus.NEED_TO_RUN
        else f"created, waiting for inputs: {note}",
        Step.WAITING: f"waiting for inputs: {note}",
        Step.READY: "inputs ready, waiting for room in the queue",
        Step.HELD: f"held back: {note}",
        Step.SUBMITTED: f"submitted as {job}",
        Step.RESUBMITTED: f"resubmitted as {job}",
        Step.ADOPTED: f"{job} found on the cluster",
        Step.RUNNING: f"{job} running" + (f" on {node}" if node else ""),
        Step.FAILED: f"failed: {reason_of(note)}",
        Step.UPLOADING: "uploading outputs",
        Step.COMPLETE: "complete",
        Step.RERUN: f"rerun requested: {note}",
    }[step]
    return one_line(said.rstrip(": "))


def one_line(text: str) -> str:
    """A description as XNAT keeps it: one line, cut to `DESCRIPTION_LIMIT` characters."""
    said = " ".join(text.split())
    if len(said) <= DESCRIPTION_LIMIT:
        return said
    return said[: DESCRIPTION_LIMIT - 3] + "..."


# Where a failure's note goes on, after its reason, with the job directory and the log's tail
# (`failure_note`, written by `finalize.fail`).
JOB_DIRECTORY = "; job directory: "
_LOG_TAIL = "; log: "


def failure_note(reason: str, directory: str, tail: str) -> str:
    """A failed task's note: the reason, where to look on the cluster, the log's last lines."""
    return f"{reason}{JOB_DIRECTORY}{directory}" + (f"{_LOG_TAIL}{tail}" if tail else "")


def reason_of(note: str) -> str:
    """
    Why a task failed, from its note: the reason alone, without the attempts record at its
    head or the log tail after it (both stay whole in the entry's `comments`), so the
    History's one line is the cause, not the last lines of a log.
    """
    body = without_head(note)
    lines = body.splitlines()
    first = lines[0] if lines else ""
    return first.split(_LOG_TAIL, 1)[0].split(JOB_DIRECTORY, 1)[0].strip()


def job_directory_of(note: str) -> str:
    """Where the failed job ran, as its note names it ("" if it does not)."""
    if JOB_DIRECTORY not in note:
        return ""
    return without_head(note).split(JOB_DIRECTORY, 1)[1].split(_LOG_TAIL, 1)[0].strip()


def log_tail_of(note: str) -> str:
    """The last lines of the job's log that a failure's note ends with ("" if it has none)."""
    return without_head(note).split(_LOG_TAIL, 1)[1].strip() if _LOG_TAIL in note else ""


# Why a job ended, as a resubmission's entry says it (a `pbs.EndCause` word -> words); memory
# and walltime say with what they ended (`_ended`).
_CAUSES = {
    "exit_code": "exited with an error",
    "cancelled": "was cancelled",
    "preempted": "was preempted",
    "node_failure": "ended because its node failed",
    "killed": "was killed by a signal",
    "scheduler": "could not be run by the scheduler",
    "lost": "ended without an exit code",
}


def _ended(attempt: Attempt) -> str:
    """How an attempt's job ended, with the request the kill was about."""
    job = f"job {attempt.job_id}" if attempt.job_id else "the job"
    if attempt.cause == "memory":
        return f"{job} was killed for memory at {attempt.memory_text}"
    if attempt.cause == "walltime":
        return f"{job} was killed for walltime at {attempt.walltime_text}"
    how = _CAUSES.get(attempt.cause) or f"ended ({attempt.cause or 'cause unknown'})"
    return f"{job} {how}"


def resubmission(attempts: Attempts, job_id: str) -> str:
    """
    A resubmission's entry: why the last job ended, what the new one asks, and its id, so the
    History answers "why was this sent again, and with what" without the note. Only what
    changed is named (a memory kill: the memory); an unchanged request is named whole.
    """
    job = f"job {job_id}" if job_id else "a new job"
    if len(attempts.entries) < 2:
        return f"resubmitted as {job}"
    before, now = attempts.entries[-2], attempts.current
    changed = []
    if now.memory_mb != before.memory_mb:
        changed.append(now.memory_text)
    if now.walltime_seconds != before.walltime_seconds:
        changed.append(now.walltime_text)
    asked = ", ".join(changed) or f"the same request ({now.memory_text}, {now.walltime_text})"
    return one_line(f"{_ended(before)}; resubmitted with {asked} as {job}")


def rerun_requested(why: str, who: str = "") -> str:
    """
    A rerun's entry: who asked (a person's XNAT account, when aspider knows it) and why. A
    request aspider only finds (QC set to Rerun, procstatus edited) was made in XNAT.
    """
    by = f"by {who}" if who else "in XNAT"
    return one_line(f"rerun requested {by}: {why}")


# The note `aspider rerun` leaves on a task it sends back: who asked, and when, for the sweep
# that carries the rerun out (its entry repeats them).
_SENT_BACK = "sent back by {who} with aspider rerun at {when}"
_SENT_BACK_RE = re.compile(r"^sent back by (.+) with aspider rerun at (.+)$")


def sent_back_note(who: str, when: datetime) -> str:
    """The note of a task `aspider rerun` sent back: who asked, when (local time)."""
    return _SENT_BACK.format(who=who, when=f"{when:%Y-%m-%d %H:%M:%S}")


def sent_back_by(note: str) -> tuple[str, str] | None:
    """(who, when) of a note `sent_back_note` wrote; None for any other note."""
    found = _SENT_BACK_RE.match(note)
    return (found.group(1), found.group(2)) if found else None


class _Clock:
    """
    Entry times, to the millisecond, never the same twice for one assessor in a process: XNAT
    keeps one entry per (pipeline, experiment, launch time), so two steps in one millisecond
    would be one, and a job's start (known to the second) could fall on an earlier entry's.
    The last time of the most recent assessors is kept (an LRU: the service runs for months).
    """

    KEPT = 10_000

    def __init__(self) -> None:
        self.last: OrderedDict[str, datetime] = OrderedDict()

    def at(self, key: str, moment: datetime | None = None) -> datetime:
        """`moment` (default: now) or, if this assessor had an entry as late, 1 ms after it."""
        moment = moment or datetime.now()
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        before = self.last.pop(key, None)
        if before is not None and moment <= before:
            moment = before + timedelta(milliseconds=1)
        self.last[key] = moment
        if len(self.last) > self.KEPT:
            self.last.popitem(last=False)
        return moment


_CLOCK = _Clock()


class _Verdict:
    """Whether XNAT takes this client's entries: unknown until one was written or refused.

    While it is unknown, writes go one at a time, so an account XNAT refuses costs one
    request and one warning however many sessions are at work."""

    def __init__(self) -> None:
        self.allowed: bool | None = None
        self.lock = anyio.Lock()


_VERDICTS: weakref.WeakKeyDictionary[XnatClient, _Verdict] = weakref.WeakKeyDictionary()


def entry(
    proctype: str,
    project: str,
    assessor_id: str,
    step: Step,
    status: ProcStatus | None,
    *,
    note: str = "",
    job_id: str = "",
    node: str = "",
    details: str = "",
    when: datetime | None = None,
    said: str = "",
) -> Workflow:
    """
    The workflow entry of one step of an assessor of `proctype` in `project`; `said` is what
    happened when the step's fields cannot tell it (a resubmission's cause, a rerun's asker).
    """
    moment = _CLOCK.at(assessor_id, when)
    description = one_line(said) if said else describe(step, status, note, job_id, node)
    known = _XNAT_STATUS.get(status, "Queued") if status is not None else "Queued"
    xnat_status = "Running" if step is Step.RUNNING else known
    return Workflow(
        experiment_id=assessor_id,
        pipeline_name=proctype,
        launch_time=moment,
        status=xnat_status,
        data_type=PROC_XSI_TYPE,
        project=project,
        step_id=status.value if status else "",
        step_description=description,
        step_launch_time=moment,
        percent_complete=100.0 if status is ProcStatus.COMPLETE else None,
        job_id=job_id,
        comments=note if note and note not in description else "",
        details=details,
    )


class History:
    """Writes the workflow entries of the steps a session's executor records."""

    def __init__(self, xnat: XnatClient, enabled: bool = True) -> None:
        self.xnat = xnat
        self.enabled = enabled

    async def wrote(
        self,
        task: Task,
        assessor_id: str,
        fields: AssessorFields,
        *,
        created: bool = False,
        step: Step | None = None,
        details: str = "",
        said: str = "",
    ) -> None:
        """
        The entry of a status write just made (its step found from the fields if not given;
        its description `said`, when given).
        """
        step = step or step_of(fields, created=created)
        if step is None or not self.enabled:
            return
        status = ProcStatus(fields.procstatus) if fields.procstatus else None
        note, job = fields.note or "", fields.jobid or ""
        where = (task.proctype, task.project, assessor_id)
        await self.write(
            entry(*where, step, status, note=note, job_id=job, details=details, said=said)
        )

    async def write(self, workflow: Workflow) -> None:
        """One PUT; a refusal or failure is logged (a 403 once per client), never raised."""
        if not self.enabled:
            return
        verdict = _VERDICTS.setdefault(self.xnat, _Verdict())
        if verdict.allowed is None:
            async with verdict.lock:
                await self._put(workflow, verdict)
        elif verdict.allowed:
            await self._put(workflow, verdict)

    async def _put(self, workflow: Workflow, verdict: _Verdict) -> None:
        if verdict.allowed is False:
            return
        try:
            await self.xnat.add_workflow(workflow)
            verdict.allowed = True
        except Forbidden as exc:
            verdict.allowed = False
            log.warning(
                "XNAT does not let this account write workflow entries (%s): tasks go on, "
                "without their status history in XNAT; set xnat.history: false to stop trying",
                exc.excerpt or exc.message,
            )
        except XnatError as exc:
            log.warning(
                "%s: its history entry (%s) was not written: %s",
                workflow.experiment_id,
                workflow.step_description,
                exc,
            )


async def read_history(xnat: XnatClient, project: str, label: str, proctype: str) -> list[Workflow]:
    """One assessor's entries, in the order written: one request, the label resolved by XNAT."""
    return await xnat.list_workflows(proctype, label, project=project)
