"""
A session's assessor records: every write the executor makes to XNAT, and what it counts.

One place writes assessors, so every write is typed (`AssessorFields`), lands in the session's
`WriteLedger` (what the chain plans from), is counted in the sweep's `Outcome`, and is followed
by its entry in the assessor's history in XNAT (`aspider.run.records.workflow_history`).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aspider.plan import JobObservation, ProcStatus, QcStatus, Task
from aspider.plan.retry import with_head
from aspider.run.records.action_log import record_action
from aspider.run.records.ledger import WriteLedger
from aspider.run.records.workflow_history import History, Step
from xnat_client import AssessorFields, XnatClient

NOTE_LIMIT = 1000  # characters of a reason kept in `note`

_actions = logging.getLogger("aspider.actions")  # the logger of `record_action`


@dataclass
class Outcome:
    """
    What a sweep did, by processor and by kind, for the summary and the exit code.

    Counts add up over sweeps, but "waiting" must not: a task recorded waiting for its inputs
    in one sweep and submitted in the next is not waiting any more. So the labels last left
    waiting (`waiting`, label -> proctype) and those that moved on since (`moved`) are kept,
    and `aspider.cli.report` replays them in sweep order.
    """

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (label, reason)
    # Tasks a failure of XNAT or the cluster held back, left to be retried by a later sweep:
    # not failed, but the run that ends with some has not done all it could.
    transient: list[tuple[str, str]] = field(default_factory=list)  # (label, reason)
    waiting: dict[str, str] = field(default_factory=dict)
    moved: set[str] = field(default_factory=set)
    # label -> the note last written with NEED_INPUTS: why it waits, for its `waiting` record
    waits_for: dict[str, str] = field(default_factory=dict)

    def add(self, task: Task, what: str, job_id: str = "", reason: str = "") -> None:
        """Count an action on `task` and log it (one record per action)."""
        self.counts[(task.proctype, what)] += 1
        if what == "waiting":
            record_waiting(task, reason or self.waits_for.get(task.label, ""))
            self.waiting[task.label] = task.proctype
            self.moved.discard(task.label)
            return
        record_action(task, what, job_id=job_id, reason=reason)
        if what != "created":
            self.moved_on(task)

    def moved_on(self, task: Task) -> None:
        """The task is past waiting for inputs (ready, submitted, done, failed)."""
        self.waiting.pop(task.label, None)
        self.moved.add(task.label)

    def fail(self, task: Task, reason: str, job_id: str = "") -> None:
        self.add(task, "failed", job_id=job_id, reason=reason)
        self.failures.append((task.label, reason))

    def retry_later(self, task: Task, reason: str) -> None:
        record_action(task, "held back", reason=reason)
        self.moved_on(task)
        self.transient.append((task.label, reason))


def record_waiting(task: Task, reason: str) -> None:
    """
    The `waiting` action's record, with what the task waits for in its message too (one line:
    a reason may hold a file name's newline), so a text log says why.
    """
    if not reason:
        record_action(task, "waiting")
        return
    fields = {
        "action": "waiting",
        "project": task.project,
        "session": task.session_label,
        "label": task.label,
        "proctype": task.proctype,
        "job_id": None,
        "reason": reason,
    }
    said = reason.replace("\r", " ").replace("\n", " ")
    _actions.info("waiting %s: %s", task.label, said, extra={"fields": fields})


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def note(text: str) -> str:
    """A reason as `note` holds it: cut to `NOTE_LIMIT` characters."""
    return text if len(text) <= NOTE_LIMIT else text[: NOTE_LIMIT - 3] + "..."


def status_note(status: ProcStatus, reason: str) -> AssessorFields:
    return AssessorFields(procstatus=status.value, note=note(reason))


def job_ended(status: ProcStatus, reason: str, obs: JobObservation | None) -> AssessorFields:
    """A job's end as written: its status, the note, what it used, and its id if adopted."""
    return AssessorFields(
        procstatus=status.value,
        note=note(reason),
        walltimeused=obs.walltime if obs else None,
        memused=obs.memory if obs else None,
        jobnode=obs.node if obs else None,
        jobid=obs.job_id if obs and obs.job_id else None,
    )


class Records:
    """The writes of one session's executor."""

    def __init__(
        self,
        xnat: XnatClient,
        outcome: Outcome,
        history: History | None = None,
        held: dict[str, str] | None = None,
    ) -> None:
        self.xnat = xnat
        self.outcome = outcome
        self.history = history or History(xnat, enabled=False)
        self.ledger = WriteLedger()
        self.created: dict[str, str] = {}  # label -> assessor ID created in this sweep
        # job name -> id of jobs an earlier run submitted held and never recorded (shared by
        # the sweep's executors): a submission of that name adopts its job
        self.held = held if held is not None else {}

    async def write(
        self,
        task: Task,
        assessor_id: str,
        fields: AssessorFields,
        *,
        step: Step | None = None,
        details: str = "",
        said: str = "",
    ) -> None:
        """
        One status write, then its history entry: `step` says what happened where the fields
        do not (a rerun, a resubmission), `said` words it when the fields cannot (why a job
        was sent again, who asked for a rerun), `details` adds to it (the resources asked).
        """
        if fields.note is not None and task.attempts is not None:
            # A retried task's note keeps its attempts at its head (`aspider.plan.retry`).
            fields = fields.model_copy(update={"note": note(with_head(task.attempts, fields.note))})
        await self.xnat.update_assessor(task.session_id, assessor_id, fields)
        self.ledger.wrote(assessor_id, fields)
        if fields.procstatus == ProcStatus.NEED_INPUTS.value:
            self.outcome.waits_for[task.label] = fields.note or ""
        await self.history.wrote(task, assessor_id, fields, step=step, details=details, said=said)

    async def create(
        self, task: Task, status: ProcStatus, reason: str, *, job_id: str | None = None
    ) -> str:
        """PUT the assessor with every field it starts with; a submitted one, its job id."""
        fields = AssessorFields(
            proctype=task.proctype,
            procversion=task.procversion,
            procstatus=status.value,
            qcstatus=QcStatus.JOB_PENDING.value,
            inputs=task.inputs_json,
            note=note(reason),
            date=today(),
            jobid=job_id,
            jobstartdate=today() if job_id else None,
        )
        assessor_id = await self.xnat.put_assessor(
            task.project, task.subject_id, task.session_id, task.label, fields
        )
        self.created[task.label] = assessor_id
        self.ledger.create(assessor_id, task, fields)
        await self.history.wrote(task, assessor_id, fields, created=True)
        self.outcome.add(task, "created")
        if status is ProcStatus.NEED_INPUTS:
            self.outcome.waits_for[task.label] = fields.note or ""
            self.outcome.add(task, "waiting")
        return assessor_id
