"""
How a trial's tasks ended, as XNAT holds them, and how a trial is taken away again.

A task's end is read from what the sweep left in XNAT, not from the job directory (a COMPLETE
task's directory is gone by then): its status and reason, its outputs as XNAT lists them, and
the last lines of its log, from the OUTLOG resource its end uploaded (else the tail its failure
note carries). Taking a trial away stops what may still run: its recorded jobs, and a job its
submission left held and never recorded (found by name, as a sweep adopts one), then its job
directories; the assessors are deleted by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import anyio

from aspider._exceptions import TrialInTheWay
from aspider.plan import IN_FLIGHT, IN_QUEUE, ProcStatus, normalise_procstatus
from aspider.run.backends import JobBackend, job_dir
from aspider.run.records.workflow_history import log_tail_of, reason_of
from aspider.run.tasks.outputs import LOG_RESOURCE
from pbs import PbsError, job_name
from xnat_client import Assessor, ResourceRef, XnatClient, XnatError

LOG_LINES = 20  # of a job's log, shown
_LOG_BYTES = 16_384  # of its end, kept while the log streams in


@dataclass(frozen=True)
class TrialOutput:
    """One output file as XNAT lists it after the upload."""

    resource: str
    name: str
    size: int | None


@dataclass(frozen=True)
class TrialTask:
    """One task of a trial, as it ended."""

    label: str
    procstatus: str
    job_id: str
    reason: str  # why it failed or cannot run ("" when COMPLETE)
    log_tail: tuple[str, ...]  # the last lines of its job's log
    outputs: tuple[TrialOutput, ...]


async def task_end(xnat: XnatClient, a: Assessor) -> TrialTask:
    """The task's end: status and reason, outputs and log tail, from XNAT."""
    status = normalise_procstatus(a.procstatus)
    ran = status in (ProcStatus.COMPLETE, ProcStatus.JOB_FAILED, ProcStatus.NO_DATA)
    outputs = await xnat.list_output_files(a.session_id, a.id) if ran else []
    logged = any(f.resource == LOG_RESOURCE and f.name == "job.log" for f in outputs)
    tail = await log_tail(xnat, a) if logged else tuple(_noted_tail(a.note))
    return TrialTask(
        label=a.label,
        procstatus=a.procstatus,
        job_id=a.jobid,
        reason="" if status is ProcStatus.COMPLETE else reason_of(a.note),
        log_tail=tail,
        outputs=tuple(TrialOutput(f.resource, f.name, f.size) for f in outputs),
    )


async def log_tail(xnat: XnatClient, a: Assessor, lines: int = LOG_LINES) -> tuple[str, ...]:
    """
    The last lines of the job's log as uploaded (OUTLOG/job.log), streamed and cut to its end
    as it comes: a long log costs its download, never its size in memory.
    """
    kept = bytearray()

    async def keep(chunk: bytes) -> None:
        kept.extend(chunk)
        del kept[:-_LOG_BYTES]

    ref = ResourceRef.assessor_output(a.session_id, a.id, LOG_RESOURCE)
    try:
        await xnat.download_file(ref, "job.log", keep)
    except XnatError:  # the listing named it a moment ago: take the note's tail instead
        return tuple(_noted_tail(a.note))
    text = kept.decode("utf-8", errors="replace")
    return tuple(line for line in text.splitlines() if line.strip())[-lines:]


def _noted_tail(note: str) -> list[str]:
    """The log tail a failure's note ends with, one line each."""
    tail = log_tail_of(note)
    return [line.strip() for line in tail.split(" | ") if line.strip()] if tail else []


async def refuse_if_running(backend: JobBackend, earlier: Sequence[Assessor]) -> None:
    """
    Raises:
        TrialInTheWay: one of an earlier trial's jobs is still queued or running. A job that
            ended, or that the scheduler no longer knows (a trial killed before its end), is no
            obstacle: that trial is over.
    """
    jobs = {a.label: a.jobid for a in earlier if _in_flight(a)}
    if not jobs:
        return
    seen = await backend.observe(jobs)
    for a in earlier:
        obs = seen.get(a.label)
        if obs is not None and obs.end_cause is None and obs.scheduler_state in IN_QUEUE:
            why = f"is {a.procstatus}, its job {obs.scheduler_state}: wait for it to end"
            raise TrialInTheWay(a.label, why)


async def stop_jobs(
    backend: JobBackend, found: Sequence[Assessor], labels: Iterable[str] = ()
) -> list[str]:
    """
    Cancel the trial's jobs that may still run (recorded ones, and held ones a submission
    left unrecorded), wait for them to end, and remove its job directories; returns what could
    not be done. The wait is what keeps a job's last words out of a removed directory: a
    cancelled job still writes its `status/signal` on its way out.
    """
    problems: list[str] = []
    every = sorted({a.label for a in found} | set(labels))
    jobs = {a.label: a.jobid for a in found if a.jobid and _in_flight(a)}
    named = {job_name(label): label for label in every}
    try:
        held = await backend.held_jobs()
        jobs |= {named[name]: job_id for name, job_id in held.items() if name in named}
    except PbsError as exc:
        problems.append(f"held jobs not read: {exc}")
    if jobs:
        ids = sorted(set(jobs.values()))
        try:
            await backend.cancel(ids)
            await _until_ended(backend, jobs)
        except PbsError as exc:
            problems.append(f"job(s) {', '.join(ids)} not cancelled: {exc}")
    for label in every:
        directory = job_dir(backend, label)
        try:
            await backend.transport.remove(str(directory))
        except (PbsError, OSError) as exc:
            problems.append(f"job directory {directory}: {exc}")
    return problems


async def _until_ended(backend: JobBackend, jobs: dict[str, str], patience: float = 30) -> None:
    """Observe cancelled jobs until none is queued or running (at most `patience` seconds)."""
    left = dict(jobs)
    with anyio.move_on_after(patience):
        while left:
            seen = await backend.observe(left)
            left = {
                label: job_id
                for label, job_id in left.items()
                if label in seen and seen[label].scheduler_state in ("queued", "running")
            }
            if left:
                await anyio.sleep(0.5)


def _in_flight(a: Assessor) -> bool:
    return normalise_procstatus(a.procstatus) in IN_FLIGHT
