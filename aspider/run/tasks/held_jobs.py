"""
Jobs this work root submitted held and did not release: what a crash in a submission left.

A submission submits its job held, records it, then releases it (`run.tasks.submission`); the job's
marker (`pbs` `.held`) stays from the submit to the release. So at the start of a sweep a
marker names one of four things, told apart by XNAT and the observation alone (no request):

- a job the assessor we follow names, still waiting: the record landed and the release did
  not. It is released now.
- a job the assessor we follow names that is running, ended or gone: released, only the
  marker stayed. The marker is forgotten.
- a job an assessor names that we no longer follow: recorded, then the task left flight
  before the release (`aspider rerun --cancel`, or its status set by hand in XNAT). The job is
  no longer its task's: it is cancelled (harmless if it already was, or ended) and its marker
  forgotten; the task's next submission sends a job of its own.
- a job no assessor names: submitted, never recorded. It is left held for the task's next
  submission, which adopts it instead of submitting a second job. A deleted assessor looks
  just so (and a task of a session or project this sweep does not read): its job is left for
  adoption too, never cancelled, because a crash before a new task's creating write lands
  leaves exactly that, and adopting a job that never ran is submitting it once.

An element of a held job array (`run.tasks.arrays`) has its own marker in its own task's job
directory, holding the element's id (`123_7`): it is settled on its own, by the same rules,
and released (`scontrol release 123_7`) or cancelled (`scancel 123_7`) alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from aspider.plan.actions import JobObservation
from aspider.run.backends import JobBackend
from pbs import PbsError, job_name
from xnat_client import ProjectSnapshot

log = logging.getLogger("aspider.run.tasks.held_jobs")


def jobs_recorded(snapshot: ProjectSnapshot, proctypes: Iterable[str]) -> dict[str, str]:
    """label -> job id of every assessor of `proctypes` that names a job, followed or not."""
    ours = set(proctypes)
    return {
        a.label: a.jobid for _, a in snapshot.every_assessor() if a.proctype in ours and a.jobid
    }


async def settle_held_jobs(
    backend: JobBackend,
    followed: Mapping[str, str],
    observations: Mapping[str, JobObservation],
    recorded: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """
    Release, cancel or forget what the markers say (above); returns job name -> id of the
    held jobs no assessor names, for the sweep's submissions to adopt. `followed`: label ->
    job id of the assessors whose jobs the sweep observed; `recorded`: label -> job id of
    every assessor of ours that names one (`jobs_recorded`), followed or not.
    """
    held = await backend.held_jobs()
    if not held:
        return {}
    names = {job_name(label): (label, job_id) for label, job_id in followed.items() if job_id}
    left = _left_flight(held, followed, recorded or {})
    release: dict[str, str] = {}
    forget: list[str] = []
    for name, job_id in held.items():
        label, named = names.get(name, ("", ""))
        if named != job_id:
            continue  # no record we follow names this job: adopted, or cancelled (`left`)
        seen = observations.get(label)
        if seen is not None and seen.scheduler_state == "queued" and seen.started is None:
            release[name] = job_id
        else:
            forget.append(name)
    try:
        if release:
            await backend.release(release)
            log.info("released %d held job(s) recorded by an earlier run", len(release))
        if forget:
            await backend.forget_held(forget)
    except PbsError as exc:  # the markers stay: the next sweep looks again
        log.warning("held jobs left as they are until the next sweep: %s", exc)
    await _cancel_left(backend, left)
    settled = release.keys() | set(forget) | left.keys()
    return {name: job_id for name, job_id in held.items() if name not in settled}


def _left_flight(
    held: Mapping[str, str], followed: Mapping[str, str], recorded: Mapping[str, str]
) -> dict[str, str]:
    """job name -> id of the held jobs an assessor names that the sweep no longer follows."""
    names = {job_name(label): job_id for label, job_id in recorded.items() if label not in followed}
    return {name: job_id for name, job_id in held.items() if names.get(name) == job_id}


async def _cancel_left(backend: JobBackend, left: Mapping[str, str]) -> None:
    """
    Cancel the held jobs whose tasks left flight, each alone (an element by its own id), in
    one command, then forget their markers. A failure leaves them held, never released nor
    adopted (the task's next submission sends a job of its own): the warning names them, for
    a person to cancel should the scheduler still hold them.
    """
    if not left:
        return
    try:
        await backend.cancel(list(left.values()))
        await backend.forget_held(list(left))
        log.info("cancelled %d held job(s) of tasks since sent back", len(left))
    except PbsError as exc:
        jobs = ", ".join(sorted(left.values()))
        log.warning("held jobs of tasks since sent back, not cancelled: %s (%s)", jobs, exc)
