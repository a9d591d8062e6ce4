"""
The end of a job: its outputs checked, uploaded and verified (COMPLETE), or the job failed.

Success is decided from the exit code (the planner finalizes only exit-0 jobs) and the declared
outputs, never from which files happen to exist; COMPLETE is written only after every output
was uploaded and XNAT's listing agrees. A failed job keeps its log for a person, as OUTLOG.
"""

from __future__ import annotations

import logging

import anyio

from aspider._exceptions import OutputsMissing, UploadMismatch
from aspider.plan import (
    Event,
    Finalize,
    JobObservation,
    MarkFailed,
    ProcStatus,
    QcStatus,
    Reason,
    Rerun,
    Task,
)
from aspider.plan.states import after
from aspider.plan.tasks import KEPT_ON_RERUN
from aspider.run.backends import JobBackend, job_dir
from aspider.run.records.assessor_writes import Records, job_ended, note
from aspider.run.records.workflow_history import (
    Step,
    failure_note,
    rerun_requested,
    sent_back_by,
)
from aspider.run.tasks.outputs import (
    LOG_RESOURCE,
    collect_outputs,
    log_file,
    log_tail,
    upload_log,
    upload_outputs,
)
from aspider.run.tasks.provenance import PROVENANCE_FILE, finished, read_begun, record_bytes
from aspider.run.tasks.transfers import TransferLimit
from pbs import PbsError
from xnat_client import AssessorFields, ResourceRef, XnatError

log = logging.getLogger("aspider.run.tasks.finalize")


async def finalize(
    records: Records, backend: JobBackend, transfers: TransferLimit, action: Finalize
) -> bool:
    """Upload and verify a finished job's outputs; whether the task is now COMPLETE."""
    task, a, outcome = action.task, action.assessor, records.outcome
    directory = job_dir(backend, task.label)
    transport = backend.transport
    try:
        files = await collect_outputs(transport, directory / "OUTPUTS", task.outputs)
    except OutputsMissing as exc:
        missing = ", ".join(exc.missing)
        reason = (
            Reason.JOB_NO_OUTPUTS
            if exc.none_present
            else Reason.JOB_MISSING_OUTPUTS.format(missing=missing)
        )
        status = after(Event.OUTPUTS_MISSING)
        await fail(records, backend, task, a.id, reason, action.observation, status)
        return False
    log_output = await log_file(transport, directory)
    uploads = [*files, log_output] if log_output is not None else files
    record = await read_begun(transport, directory)  # None: begun before records were kept
    beside: dict[str, bytes] = {}
    if record is not None:
        done = finished(record, task, action.observation, backend.name)
        beside[PROVENANCE_FILE] = record_bytes(done)
    try:
        listed = await upload_outputs(
            records.xnat, transport, task.session_id, a.id, uploads, transfers, beside
        )
        sent = {f.resource for f in uploads} | ({LOG_RESOURCE} if beside else set())
        records.ledger.uploaded(a.id, a.resources, sent, listed)
    except (UploadMismatch, PbsError, XnatError, OSError, ValueError) as exc:
        reason = Reason.UPLOAD_FAILED.format(error=exc)
        failed = job_ended(after(Event.UPLOAD_FAILED), reason, action.observation)
        await records.write(task, a.id, failed)
        outcome.retry_later(task, reason)
        return False
    # One write for the end: COMPLETE, QC, what the job used and was made from (no UPLOADING write:
    # an upload cut short leaves the task where a finalize is tried again, as UPLOADING did).
    made = str(record.get("made_from") or "") if record is not None else ""
    ended = job_ended(after(Event.UPLOAD_VERIFIED), made, action.observation)
    complete = ended.model_copy(update={"qcstatus": QcStatus.NEEDS_QA.value})
    await records.write(task, a.id, complete, details=how_it_ran(action.observation))
    outcome.add(task, "completed", job_id=a.jobid)
    # Housekeeping after COMPLETE: a directory that will not go is logged, and the session goes
    # on (its chained work included); the outputs are safe in XNAT already.
    with anyio.move_on_after(30, shield=True):
        try:
            await transport.remove(str(directory))
        except (PbsError, OSError) as exc:
            log.warning("%s: COMPLETE, but its job directory stays: %s", task.label, exc)
    return True


def how_it_ran(obs: JobObservation | None) -> str:
    """When and where the job ran, for the history entry of its end (one entry, not two)."""
    if obs is None or obs.started is None:
        return ""
    started = obs.started.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    where = f" on {obs.node}" if obs.node else ""
    took = f" for {obs.walltime}" if obs.walltime else ""
    return f"ran{where} from {started}{took}"


async def mark_failed(records: Records, backend: JobBackend, action: MarkFailed) -> None:
    task, a = action.task, action.assessor
    failed = ProcStatus.JOB_FAILED  # where every planner row that marks a task failed leads
    await fail(records, backend, task, a.id, action.reason, action.observation, failed)


async def fail(
    records: Records,
    backend: JobBackend,
    task: Task,
    assessor_id: str,
    reason: str,
    obs: JobObservation | None,
    status: ProcStatus,
) -> None:
    """`status` (JOB_FAILED) with the reason and the log's tail in `note`, the log as OUTLOG."""
    directory = job_dir(backend, task.label)
    tail = await log_tail(backend.transport, directory)
    full = failure_note(reason, str(directory), tail)
    try:
        await upload_log(records.xnat, backend.transport, directory, task.session_id, assessor_id)
    except (PbsError, XnatError) as exc:
        full += f" (uploading {LOG_RESOURCE} failed: {exc})"
    await records.write(task, assessor_id, job_ended(status, full, obs), details=how_it_ran(obs))
    records.outcome.fail(task, reason, job_id=(obs.job_id if obs else "") or "")


async def rerun(records: Records, backend: JobBackend, action: Rerun) -> None:
    """
    Outputs removed, job fields cleared, QC back to Job Pending: NEED_TO_RUN again. People's
    edits (EDITS) and what was set aside (OLD) stay, as under DAX: the rerun is often run
    for the edits' sake.
    """
    task, a = action.task, action.assessor
    kept = {r for r in a.resources if r in KEPT_ON_RERUN}
    for resource in a.resources:
        if resource not in kept:
            ref = ResourceRef.assessor_output(task.session_id, a.id, resource)
            await records.xnat.delete_resource(ref)
    records.ledger.removed_outputs(a.id, kept)
    await backend.transport.remove(str(job_dir(backend, task.label)))
    fields = AssessorFields(
        procstatus=ProcStatus.NEED_TO_RUN.value,
        qcstatus=QcStatus.JOB_PENDING.value,
        jobid="",
        jobnode="",
        memused="",
        walltimeused="",
        note=note(action.reason),
    )
    await records.write(task, a.id, fields, step=Step.RERUN, said=rerun_said(action))
    records.outcome.add(task, "rerun")


def rerun_said(action: Rerun) -> str:
    """
    The rerun's entry: who asked and why. `aspider rerun` left its asker and time in the note
    (`sent_back_note`); a QC Rerun or a procstatus edited by hand was asked in XNAT, by a
    person aspider cannot name.
    """
    asked = sent_back_by(action.assessor.note)
    if action.reason == Reason.RERUN_BY_HAND and asked is not None:
        who, when = asked
        return rerun_requested(f"aspider rerun at {when}: outputs removed, running again", who)
    return rerun_requested(action.reason)
