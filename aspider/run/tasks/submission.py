"""
Submission: stage the inputs, submit the job held, record it with its job id, release it.

This is the step that must never happen twice. Its order: inputs staged; the job submitted
held under its name (alone, or as an element of the sweep's job array for its processor and
request: `run.tasks.arrays` takes the steps from here for all its elements at once), which
leaves a marker in its directory (`pbs` `.held`: ours, held, not released); the assessor
written with JOB_RUNNING and the job id (a new task's is created so, one PUT); the job
released. No job starts before XNAT names it, and a crash anywhere leaves a
state the next sweep resolves: before the submission, the task is still due; after it, the
marker either names a job no assessor has, which the task's next submission adopts instead of
submitting again, or the job an assessor already names, which is released
(`run.tasks.held_jobs.settle_held_jobs`).

What goes wrong is told apart: inputs that are not there (NEED_INPUTS, a person must act); XNAT
or the cluster failing before the scheduler was reached (NEED_TO_RUN, a later sweep submits
it); the scheduler refusing the job (JOB_FAILED); the outcome unknown (a held job may exist:
its marker finds it). Assessors an older engine left with an intent (JOB_RUNNING, no job id)
are still looked up by name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from aspider._exceptions import ConfigError, InputsMissing, StagingError
from aspider.plan import (
    CreateAssessor,
    Event,
    ProcStatus,
    Reason,
    SetStatus,
    Submit,
    Task,
    fill_file_names,
)
from aspider.plan.states import after
from aspider.plan.tasks import EDITS_RESOURCE
from aspider.run.backends import JobBackend, job_dir
from aspider.run.records.assessor_writes import Records, note, status_note, today
from aspider.run.records.workflow_history import Step, resubmission
from aspider.run.tasks.job_templates import job_template
from aspider.run.tasks.provenance import begun, write_begun
from aspider.run.tasks.staging import stage_edits, stage_inputs, staged_names
from pbs import (
    CommandFailed,
    ConnectFailed,
    FileOperationFailed,
    InvalidValue,
    JobSpec,
    JobTemplate,
    PbsError,
    SchedulerUnavailable,
    SubmitFailed,
    Transport,
    check_path,
    job_name,
)
from xnat_client import AssessorFields, ResourceRef, XnatError

if TYPE_CHECKING:
    from aspider.run.tasks.context import TaskContext

log = logging.getLogger("aspider.run.tasks.submission")

# The job's command sees INDIR/OUTDIR (DAX's names) as well as the wrapper's INPUTS/OUTPUTS.
_COMMAND_PRELUDE = 'INDIR="$INPUTS"; OUTDIR="$OUTPUTS"; export INDIR OUTDIR\n'


@dataclass(frozen=True)
class JobOptions:
    """Cluster options every job gets, from the settings."""

    queue: str | None = None
    account: str | None = None
    qos: str | None = None  # Slurm's quality of service


def job_spec(
    task: Task, backend: JobBackend, options: JobOptions, *, hold: bool = False
) -> JobSpec:
    """The job for a task: named for its label, in its own directory, with its resources."""
    req = task.requirements
    return JobSpec(
        hold=hold,
        name=job_name(task.label),
        job_dir=job_dir(backend, task.label),
        command=_COMMAND_PRELUDE + task.command_script,
        walltime=timedelta(seconds=max(1, req.walltime_seconds)),
        memory_mb=req.memory_mb or None,
        cpus=max(1, req.ppn),
        queue=options.queue,
        account=options.account,
        qos=options.qos,
    )


# What an earlier attempt left: its status files and outputs go, its log becomes job.log.<n>.
_SET_ASIDE = """\
d=$1
rm -rf -- "$d/status" "$d/OUTPUTS" || exit 1
[ ! -e "$d/job.log" ] || mv -f -- "$d/job.log" "$d/job.log.$2"
"""


async def set_aside(transport: Transport, directory: PurePosixPath, attempt: int) -> None:
    """
    Clear what attempt `attempt` left in the job directory, in one command, so that nothing
    of it (an exit code, a partial output) is ever read as the next attempt's.

    Raises:
        CommandFailed: the directory could not be cleared (nothing was submitted).
    """
    argv = ["sh", "-c", _SET_ASIDE, "sh", str(check_path(directory, "job directory")), str(attempt)]
    await transport.run(argv, check=True)


class Submission:
    """One Submit action, carried out."""

    def __init__(
        self,
        context: TaskContext,
        records: Records,
        action: Submit,
        prepared: CreateAssessor | SetStatus | None,
    ) -> None:
        self.records = records
        self.backend = context.backend
        self.options = context.job_options
        self.transfers = context.transfers
        self.action = action
        self.prepared = prepared  # the create or status write this submission makes instead
        self.task = action.task
        found = action.assessor.id if action.assessor else records.created.get(self.task.label)
        self.assessor_id: str | None = found
        self.names: dict[str, str] = {}
        self.arrays = context.arrays
        self.containers = context.containers

    async def run(self) -> None:
        task, arrays = self.task, self.arrays
        try:
            if not await self._stage():
                return
            name = job_name(task.label)
            job_id = self.records.held.pop(name, None)  # held by an earlier run, never recorded
            if job_id is None and arrays is not None and arrays.expects(task.label):
                job = await self.held_job()
                if job is not None:
                    arrays.join(self, *job)  # its array submits, records and releases it
                return
            if job_id is None:
                await self.alone()
                return
            if await self.recorded(job_id):
                await self._release(job_id)
        finally:
            if arrays is not None:
                arrays.leave(task.label)  # the array waits for it no longer (joined or not)

    async def alone(self) -> None:
        """Submit the task's job held on its own, record it, release it."""
        job = await self.held_job()
        if job is None:
            return
        try:
            job_id = await self.backend.submit(*job)
        except PbsError as exc:
            await self.not_submitted(exc)
            return
        if await self.recorded(job_id):
            await self._release(job_id)

    async def _release(self, job_id: str) -> None:
        task = self.task
        try:
            await self.backend.release({job_name(task.label): job_id})
        except PbsError as exc:  # recorded and held: the next sweep lets it go
            log.warning("%s: job %s recorded but not released yet (%s)", task.label, job_id, exc)
        self.submitted(job_id)

    def submitted(self, job_id: str) -> None:
        """Count the task submitted (recorded; released, or left to the next sweep to)."""
        self.records.outcome.add(self.task, "submitted", job_id=job_id)

    async def held_job(self) -> tuple[JobSpec, JobTemplate | None] | None:
        """
        The task's held job and its template; None when they cannot be made (a value no
        scheduler takes, a template that does not fit), recorded as a refusal.
        """
        task = self.task
        named = replace(task, command_script=fill_file_names(task.command_script, self.names))
        try:
            spec = job_spec(named, self.backend, self.options, hold=True)
            return spec, job_template(task, self.backend.name)
        except (InvalidValue, ConfigError) as exc:
            await self.not_submitted(exc)
        return None

    async def not_submitted(self, exc: PbsError | ConfigError) -> None:
        """
        Record why the job was not submitted: NEED_TO_RUN when the scheduler never saw it,
        JOB_FAILED when it refused it; the outcome unknown, nothing (its marker finds it).
        """
        task, outcome = self.task, self.records.outcome
        if isinstance(exc, SchedulerUnavailable):  # its server never answered: no job
            reason = Reason.SUBMIT_NOT_SENT.format(error=exc)
            await self._record_held(after(Event.SUBMIT_NOT_SENT), reason)
            outcome.retry_later(task, reason)
        elif isinstance(exc, SubmitFailed | InvalidValue | ConfigError):  # refused
            reason = Reason.SUBMIT_FAILED.format(error=exc)
            await self._record_held(after(Event.SUBMIT_REFUSED), reason)
            outcome.fail(task, reason)
        elif isinstance(exc, ConnectFailed | FileOperationFailed | CommandFailed):
            # The cluster was not reached, or the job directory could not be written: the
            # scheduler never saw the job, so a later sweep simply submits it again.
            reason = Reason.SUBMIT_NOT_SENT.format(error=exc)
            await self._record_held(after(Event.SUBMIT_NOT_SENT), reason)
            outcome.retry_later(task, reason)
        else:  # lost mid-submission: a held job may exist, with its marker
            log.warning("%s: submission outcome unknown (%s); resolved next sweep", task.label, exc)
            outcome.retry_later(task, f"outcome of the submission unknown: {exc}")

    async def recorded(self, job_id: str) -> bool:
        """
        The held job on the assessor: created with it (a new task, one PUT), or its status,
        job id and reason in one write. A failed write leaves the job held, never started and
        never lost: its marker has the next sweep adopt it (no record) or release it (the
        write landed after all).
        """
        task, status, reason = self.task, after(Event.SUBMITTED), self.action.reason
        try:
            if self.assessor_id is None:
                self.assessor_id = await self.records.create(task, status, reason, job_id=job_id)
                return True
            fields = AssessorFields(
                procstatus=status.value, jobid=job_id, jobstartdate=today(), note=note(reason)
            )
            if task.attempts is not None and len(task.attempts.entries) > 1:
                # a later attempt (a retry, or one whose submission a sweep put off): the
                # history says why the last job ended, and with what this one is sent
                now = task.attempts.current
                await self.records.write(
                    task,
                    self.assessor_id,
                    fields,
                    step=Step.RESUBMITTED,
                    said=resubmission(task.attempts, job_id),
                    details=f"{now.memory_text}, {now.walltime_text}",
                )
            else:
                await self.records.write(task, self.assessor_id, fields)
        except XnatError as exc:
            reason = f"job {job_id} submitted held, not yet recorded: {exc}"
            log.warning("%s: %s; resolved next sweep", task.label, reason)
            self.records.outcome.retry_later(task, reason)
            return False
        return True

    def _edits(self) -> ResourceRef | None:
        """The assessor's EDITS resource, where the snapshot shows it has one."""
        a = self.action.assessor
        if a is None or EDITS_RESOURCE not in a.resources:
            return None
        return ResourceRef.assessor_output(self.task.session_id, a.id, EDITS_RESOURCE)

    async def _stage(self) -> bool:
        """
        Stage the inputs; when that fails, record why (once) and say so. A retried task's
        last attempt is set aside first, before its new job is submitted: from then on, what
        the job directory shows is the new attempt's.
        """
        task, outcome = self.task, self.records.outcome
        directory = job_dir(self.backend, task.label)
        inputs = directory / "INPUTS"
        try:
            if task.attempts is not None:
                await set_aside(self.backend.transport, directory, task.attempts.current.number - 1)
            staged = await stage_inputs(
                self.records.xnat,
                self.backend.transport,
                inputs,
                task,
                self.transfers,
                known=self.records.ledger.files,  # upstream outputs this sweep just listed
            )
            edits = await stage_edits(
                self.records.xnat, self.backend.transport, inputs, task, self._edits(), staged
            )
            self.names = staged_names(staged) | edits  # what the placeholders hold
            record = begun(task, staged, await self.containers.describe(task.container))
            await write_begun(self.backend.transport, directory, record)
        except InputsMissing as exc:
            created = await self._record_held(after(Event.STAGING_INPUTS_MISSING), str(exc))
            if not created:  # creating it NEED_INPUTS counted it waiting already
                outcome.add(task, "waiting", reason=str(exc))
            return False
        except (StagingError, PbsError, XnatError, OSError) as exc:
            reason = Reason.STAGING_FAILED.format(error=exc)
            await self._record_held(after(Event.STAGING_FAILED), reason)
            outcome.retry_later(task, reason)
            return False
        return True

    async def _record_held(self, status: ProcStatus, reason: str) -> bool:
        """
        The task waits: create it so, or record the new status and reason (if they changed).

        Returns:
            Whether the assessor was created now.
        """
        if self.assessor_id is None:
            self.assessor_id = await self.records.create(self.task, status, reason)
            return True
        current = self.action.assessor
        if current is not None and (current.procstatus, current.note) == (
            status.value,
            note(reason),
        ):
            return False  # refused again for the same reason: nothing new to write
        await self.records.write(self.task, self.assessor_id, status_note(status, reason))
        return False
