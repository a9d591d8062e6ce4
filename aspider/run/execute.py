"""
Carrying out a session's actions: the only place the plan touches XNAT and the cluster.

Each action is a short chain of steps, and every failure is recorded on the affected assessor
(its `note`, and a status that never claims more than is true), never dropped and never turned
into COMPLETE. Errors we cannot even record (XNAT down) propagate to the sweep, which reports the
session and carries on with the others.

Submission is the step that must never happen twice. Its order: inputs staged; the intent
recorded on the assessor (JOB_RUNNING with no job id); qsub with the label as job name; the job
id recorded. A crash anywhere leaves a state the next sweep resolves: before the intent, the task
is still NEED_TO_RUN; after it, the job is looked up by name (and its exit code read) before any
new submission.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import assert_never

import anyio

from aspider._exceptions import InputsMissing, OutputsMissing, StagingError, UploadMismatch
from aspider.plan.actions import (
    Action,
    CreateAssessor,
    Finalize,
    JobObservation,
    MarkFailed,
    RecordJob,
    Rerun,
    ResolveIntent,
    SetStatus,
    Submit,
)
from aspider.plan.states import Event, ProcStatus, QcStatus, Reason, after
from aspider.plan.tasks import Task
from aspider.run.action_log import record_action
from aspider.run.backends import JobBackend, job_dir
from aspider.run.outputs import (
    LOG_RESOURCE,
    collect_outputs,
    log_tail,
    upload_log,
    upload_outputs,
)
from aspider.run.staging import stage_inputs
from aspider.run.transfers import TransferLimit
from pbs import ConnectionLost, JobSpec, PbsError, SubmitFailed
from xnat_client import AssessorFields, ResourceRef, XnatClient, XnatError

log = logging.getLogger("aspider.run.execute")

# The job's command sees INDIR/OUTDIR (DAX's names) as well as the wrapper's INPUTS/OUTPUTS.
_COMMAND_PRELUDE = 'INDIR="$INPUTS"; OUTDIR="$OUTPUTS"; export INDIR OUTDIR\n'
_NOTE_LIMIT = 1000


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
    waiting: dict[str, str] = field(default_factory=dict)
    moved: set[str] = field(default_factory=set)

    def add(self, task: Task, what: str, job_id: str = "", reason: str = "") -> None:
        record_action(task, what, job_id=job_id, reason=reason)  # one log record per action
        self.counts[(task.proctype, what)] += 1
        if what == "waiting":
            self.waiting[task.label] = task.proctype
            self.moved.discard(task.label)
        elif what != "created":
            self.moved_on(task)

    def moved_on(self, task: Task) -> None:
        """The task is past waiting for inputs (ready, submitted, done, failed)."""
        self.waiting.pop(task.label, None)
        self.moved.add(task.label)

    def fail(self, task: Task, reason: str, job_id: str = "") -> None:
        self.add(task, "failed", job_id=job_id, reason=reason)
        self.failures.append((task.label, reason))


@dataclass(frozen=True)
class JobOptions:
    """Cluster options every job gets, from the settings."""

    queue: str | None = None
    account: str | None = None


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _note(text: str) -> str:
    return text if len(text) <= _NOTE_LIMIT else text[: _NOTE_LIMIT - 3] + "..."


def _status(status: ProcStatus, note: str) -> AssessorFields:
    return AssessorFields(procstatus=status.value, note=_note(note))


def job_spec(task: Task, backend: JobBackend, options: JobOptions) -> JobSpec:
    """The job for a task: named by its label, in its own directory, with its resources."""
    req = task.requirements
    return JobSpec(
        name=task.label,
        job_dir=job_dir(backend, task.label),
        command=_COMMAND_PRELUDE + task.command_script,
        walltime=timedelta(seconds=max(1, req.walltime_seconds)),
        memory_mb=req.memory_mb or None,
        cpus=max(1, req.ppn),
        queue=options.queue,
        account=options.account,
    )


class SessionExecutor:
    """Runs one session's actions in order; one instance per session coroutine."""

    def __init__(
        self,
        xnat: XnatClient,
        backend: JobBackend,
        outcome: Outcome,
        options: JobOptions,
        transfers: TransferLimit,
    ) -> None:
        self.xnat = xnat
        self.backend = backend
        self.outcome = outcome
        self.options = options
        self.transfers = transfers
        self._created: dict[str, str] = {}  # label -> assessor ID created in this sweep
        self.completed: set[str] = set()  # proctypes of the tasks this executor completed

    async def run(self, actions: tuple[Action, ...]) -> None:
        for action in actions:
            await self._dispatch(action)

    async def _dispatch(self, action: Action) -> None:
        match action:
            case CreateAssessor():
                await self.create(action)
            case SetStatus():
                await self.set_status(action)
            case Submit():
                await self.submit(action)
            case ResolveIntent():
                await self.resolve_intent(action)
            case RecordJob():
                await self.record_job(action.task, action.assessor.id, action.observation)
            case Finalize():
                await self.finalize(action)
            case MarkFailed():
                await self.mark_failed(action)
            case Rerun():
                await self.rerun(action)
            case _:
                assert_never(action)

    # -- assessor records ------------------------------------------------------------------

    async def _write(self, task: Task, assessor_id: str, fields: AssessorFields) -> None:
        await self.xnat.update_assessor(task.session_id, assessor_id, fields)

    async def create(self, action: CreateAssessor) -> None:
        task = action.task
        fields = AssessorFields(
            proctype=task.proctype,
            procversion=task.procversion,
            procstatus=action.procstatus.value,
            qcstatus=QcStatus.JOB_PENDING.value,
            inputs=task.inputs_json,
            note=_note(action.reason),
            date=_today(),
        )
        self._created[task.label] = await self.xnat.put_assessor(
            task.project, task.subject_id, task.session_id, task.label, fields
        )
        self.outcome.add(task, "created")
        if action.procstatus is ProcStatus.NEED_INPUTS:
            self.outcome.add(task, "waiting")

    async def set_status(self, action: SetStatus) -> None:
        fields = AssessorFields(procstatus=action.procstatus.value, note=_note(action.reason))
        await self._write(action.task, action.assessor.id, fields)
        if action.procstatus is ProcStatus.NEED_INPUTS:
            self.outcome.add(action.task, "waiting")
        else:
            self.outcome.moved_on(action.task)

    # -- submission ------------------------------------------------------------------------

    async def submit(self, action: Submit) -> None:
        task = action.task
        assessor_id = action.assessor.id if action.assessor else self._created.get(task.label)
        if assessor_id is None:
            raise RuntimeError(f"{task.label}: submit without an assessor (planner bug)")
        directory = job_dir(self.backend, task.label)
        try:
            inputs = directory / "INPUTS"
            await stage_inputs(self.xnat, self.backend.transport, inputs, task, self.transfers)
        except InputsMissing as exc:
            status = after(Event.STAGING_INPUTS_MISSING)
            await self._write(task, assessor_id, _status(status, str(exc)))
            self.outcome.add(task, "waiting")
            return
        except (StagingError, PbsError, XnatError, OSError) as exc:
            reason = Reason.STAGING_FAILED.format(error=exc)
            await self._write(task, assessor_id, _status(after(Event.STAGING_FAILED), reason))
            self.outcome.fail(task, reason)
            return
        # The intent: from here on, a crash is resolved by looking the job up by name.
        intent = AssessorFields(
            procstatus=after(Event.STAGED).value, jobid="", note=_note(action.reason)
        )
        await self._write(task, assessor_id, intent)
        try:
            job_id = await self.backend.submit(job_spec(task, self.backend, self.options))
        except ConnectionLost:
            assert after(Event.SUBMIT_OUTCOME_UNKNOWN) is ProcStatus.JOB_RUNNING  # nothing to write
            log.warning("%s: connection lost during qsub; resolved next sweep", task.label)
            return
        except (SubmitFailed, PbsError) as exc:
            reason = Reason.SUBMIT_FAILED.format(error=exc)
            await self._write(task, assessor_id, _status(after(Event.SUBMIT_REFUSED), reason))
            self.outcome.fail(task, reason)
            return
        submitted = AssessorFields(
            procstatus=after(Event.SUBMITTED).value, jobid=job_id, jobstartdate=_today()
        )
        await self._write(task, assessor_id, submitted)
        self.outcome.add(task, "submitted", job_id=job_id)

    async def resolve_intent(self, action: ResolveIntent) -> None:
        found = await self.backend.observe({action.task.label: ""})
        obs = found.get(action.task.label)
        if obs is not None and obs.job_id and obs.scheduler_state in ("queued", "running"):
            await self.record_job(action.task, action.assessor.id, obs)

    async def record_job(self, task: Task, assessor_id: str, obs: JobObservation) -> None:
        fields = AssessorFields(jobid=obs.job_id or "", jobnode=obs.node, note="")
        await self._write(task, assessor_id, fields)
        self.outcome.add(task, "adopted", job_id=obs.job_id or "")

    # -- the end of a job ------------------------------------------------------------------

    def _usage(self, obs: JobObservation | None) -> dict[str, str | None]:
        """What the job used, and its id: a job adopted after a crash has none recorded yet."""
        if obs is None:
            return {}
        usage = {"walltimeused": obs.walltime, "memused": obs.memory, "jobnode": obs.node}
        return {**usage, "jobid": obs.job_id} if obs.job_id else usage

    def _ended(self, status: ProcStatus, note: str, obs: JobObservation | None) -> AssessorFields:
        """A job's end as written: its status, the note, and what it used."""
        usage = self._usage(obs)
        return AssessorFields(
            procstatus=status.value,
            note=_note(note),
            walltimeused=usage.get("walltimeused"),
            memused=usage.get("memused"),
            jobnode=usage.get("jobnode"),
            jobid=usage.get("jobid"),
        )

    async def finalize(self, action: Finalize) -> None:
        task, a = action.task, action.assessor
        directory = job_dir(self.backend, task.label)
        transport = self.backend.transport
        try:
            files = await collect_outputs(transport, directory / "OUTPUTS", task.outputs)
        except OutputsMissing as exc:
            text = ", ".join(exc.missing)
            reason = (
                Reason.JOB_NO_OUTPUTS
                if exc.none_present
                else Reason.JOB_MISSING_OUTPUTS.format(missing=text)
            )
            await self._fail(task, a.id, reason, action.observation)
            return
        uploading = self._ended(after(Event.OUTPUTS_FOUND), "", action.observation)
        await self._write(task, a.id, uploading)
        try:
            limit = self.transfers
            await upload_outputs(self.xnat, transport, task.session_id, a.id, files, limit)
            await upload_log(self.xnat, transport, directory, task.session_id, a.id, limit)
        except (UploadMismatch, PbsError, XnatError, OSError, ValueError) as exc:
            reason = Reason.UPLOAD_FAILED.format(error=exc)
            await self._write(task, a.id, _status(after(Event.UPLOAD_FAILED), reason))
            self.outcome.fail(task, reason)
            return
        complete = AssessorFields(
            procstatus=after(Event.UPLOAD_VERIFIED).value, qcstatus=QcStatus.NEEDS_QA.value
        )
        await self._write(task, a.id, complete)
        self.outcome.add(task, "completed", job_id=a.jobid)
        self.completed.add(task.proctype)
        # Housekeeping after COMPLETE: a directory that will not go is logged, and the session
        # goes on (its chained work included); the outputs are safe in XNAT already.
        with anyio.move_on_after(30, shield=True):
            try:
                await transport.remove(str(directory))
            except (PbsError, OSError) as exc:
                log.warning("%s: COMPLETE, but its job directory stays: %s", task.label, exc)

    async def mark_failed(self, action: MarkFailed) -> None:
        await self._fail(action.task, action.assessor.id, action.reason, action.observation)

    async def _fail(
        self, task: Task, assessor_id: str, reason: str, obs: JobObservation | None
    ) -> None:
        directory = job_dir(self.backend, task.label)
        tail = await log_tail(self.backend.transport, directory)
        full = f"{reason}; log: {tail}" if tail else reason
        try:
            await upload_log(
                self.xnat, self.backend.transport, directory, task.session_id, assessor_id
            )
        except (PbsError, XnatError) as exc:
            full += f" (uploading {LOG_RESOURCE} failed: {exc})"
        await self._write(task, assessor_id, self._ended(ProcStatus.JOB_FAILED, full, obs))
        self.outcome.fail(task, reason, job_id=(obs.job_id if obs else "") or "")

    async def rerun(self, action: Rerun) -> None:
        task, a = action.task, action.assessor
        for resource in a.resources:
            await self.xnat.delete_resource(
                ResourceRef.assessor_output(task.session_id, a.id, resource)
            )
        await self.backend.transport.remove(str(job_dir(self.backend, task.label)))
        fields = AssessorFields(
            procstatus=ProcStatus.NEED_TO_RUN.value,
            qcstatus=QcStatus.JOB_PENDING.value,
            jobid="",
            jobnode="",
            memused="",
            walltimeused="",
            note=_note(action.reason),
        )
        await self._write(task, a.id, fields)
        self.outcome.add(task, "rerun")
