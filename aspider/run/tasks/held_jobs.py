"""
Jobs this work root submitted held and did not release: what a crash in a submission left.

A submission submits its job held, records it, then releases it (`run.tasks.submission`); the job's
marker (`pbs` `.held`) stays from the submit to the release. So at the start of a sweep a
marker names one of three things, told apart by XNAT and the observation alone (no request):

- a job an assessor already names, still waiting: the record landed and the release did not.
  It is released now.
- a job an assessor names that is running, ended or gone: released, only the marker stayed.
  The marker is forgotten.
- a job no assessor names: submitted, never recorded. It is left held for the task's next
  submission, which adopts it instead of submitting a second job.

An element of a held job array (`run.tasks.arrays`) has its own marker in its own task's job
directory, holding the element's id (`123_7`): it is settled on its own, by the same rules.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aspider.plan.actions import JobObservation
from aspider.run.backends import JobBackend
from pbs import PbsError, job_name

log = logging.getLogger("aspider.run.tasks.held_jobs")


async def settle_held_jobs(
    backend: JobBackend,
    followed: Mapping[str, str],
    observations: Mapping[str, JobObservation],
) -> dict[str, str]:
    """
    Release or forget what the markers say (above); returns job name -> id of the held jobs
    no assessor names, for the sweep's submissions to adopt. `followed`: label -> job id of
    the assessors whose jobs the sweep observed.
    """
    held = await backend.held_jobs()
    if not held:
        return {}
    recorded = {job_name(label): (label, job_id) for label, job_id in followed.items() if job_id}
    release: dict[str, str] = {}
    forget: list[str] = []
    for name, job_id in held.items():
        label, named = recorded.get(name, ("", ""))
        if named != job_id:
            continue  # no record names this job: its task's next submission adopts it
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
    settled = release.keys() | set(forget)
    return {name: job_id for name, job_id in held.items() if name not in settled}
