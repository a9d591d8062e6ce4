"""
What a job's end means for its task (pure): the event the planner looks up, the reason written
to `note`, and, for a job the scheduler stopped, whether its retry policy sends it again.

Why a job ended is the observation's `end_cause` (`pbs.end_cause`: the job directory's exit
code weighed against the scheduler's account), one event and one reason per cause. A task
that has been retried carries its attempts (`aspider.plan.retry`), read back from its note.
"""

from __future__ import annotations

from dataclasses import replace

from aspider.plan.actions import JobObservation
from aspider.plan.retry import (
    Attempt,
    Attempts,
    Usage,
    first_attempt,
    next_attempt,
    read_attempts,
)
from aspider.plan.states import IN_FLIGHT, Event, ProcStatus, Reason
from aspider.plan.tasks import Task, TaskRequirements
from aspider.processors import Processor, RetryPolicy, format_duration
from xnat_client.models import Assessor

# The statuses in which a task's attempts count: its record is read from the note.
# A job's end -> the event of a job with an id (an intent's success and loss are its own).
_ENDED: dict[str, Event] = {
    "success": Event.JOB_EXITED_ZERO,
    "exit_code": Event.JOB_EXITED_NONZERO,
    "memory": Event.JOB_OUT_OF_MEMORY,
    "walltime": Event.JOB_OUT_OF_TIME,
    "cancelled": Event.JOB_CANCELLED,
    "preempted": Event.JOB_PREEMPTED,
    "node_failure": Event.JOB_NODE_FAILED,
    "killed": Event.JOB_KILLED,
    "scheduler": Event.JOB_NOT_RUN,
    "lost": Event.JOB_GONE,
}
STOPPED = frozenset(_ENDED.values()) - {Event.JOB_EXITED_ZERO}


def counted(
    a: Assessor | None, status: ProcStatus | None, event: Event | None = None
) -> Attempts | None:
    """
    The attempts recorded on a task whose attempts count: its job under way, or a retry that
    did not reach the scheduler (NEED_TO_RUN, ready to be submitted again).
    """
    if a is None:
        return None
    under_way = status in IN_FLIGHT
    unsent = status is ProcStatus.NEED_TO_RUN and event is Event.INPUTS_READY
    return read_attempts(a.note) if under_way or unsent else None


def job_event(a: Assessor, obs: JobObservation | None, attempts: Attempts | None = None) -> Event:
    """
    The event of a JOB_RUNNING task, from why its job ended (`obs.end_cause`).

    A recorded intent (no job id) whose name finds only a job of an earlier attempt has no job
    yet: the engine stopped between the retry's intent and its submission.
    """
    intent = not a.jobid
    earlier = attempts.ended_job_ids if attempts is not None else frozenset()
    if intent and obs is not None and obs.job_id and obs.job_id in earlier:
        return Event.NO_JOBID_GONE
    if obs is None:
        return Event.NO_JOBID_UNRESOLVED if intent else Event.JOB_UNKNOWN
    cause = obs.end_cause
    if cause is None:
        if obs.scheduler_state in ("queued", "running"):
            return Event.NO_JOBID_FOUND if intent else Event.JOB_ACTIVE
        return Event.NO_JOBID_UNRESOLVED if intent else Event.JOB_UNKNOWN
    if intent and cause == "success":
        return Event.NO_JOBID_EXITED
    if intent and cause == "lost":
        return Event.NO_JOBID_GONE
    return _ENDED[cause]


def policy_of(proc: Processor, site: RetryPolicy) -> RetryPolicy:
    """The processor's retry policy: its own fields over the site's."""
    return proc.spec.retry.over(site) if proc.spec.retry is not None else site


def retry_decision(
    proc: Processor,
    site: RetryPolicy,
    attempts: Attempts | None,
    event: Event,
    obs: JobObservation | None,
) -> Attempt | str | None:
    """
    For a job the scheduler stopped: its next attempt, why none is left, or None (no retry).
    The policy is worked out only here, for the few tasks whose job just stopped.
    """
    if event not in STOPPED or obs is None or obs.end_cause is None:
        return None
    policy = policy_of(proc, site)
    if attempts is not None:
        current = attempts.current
    else:
        req = proc.spec.requirements
        current = first_attempt(req.memory_mb, req.walltime_seconds).current
    return next_attempt(policy, current, obs.end_cause)


def with_attempts(task: Task, attempts: Attempts | None) -> Task:
    """The task as its current attempt asks for it (the request scaled by earlier retries)."""
    if attempts is None:
        return task
    now, req = attempts.current, task.requirements
    requirements = TaskRequirements(
        format_duration(now.walltime_seconds), now.walltime_seconds, now.memory_mb, req.ppn
    )
    return replace(task, requirements=requirements, attempts=attempts)


def retried(
    task: Task, a: Assessor, obs: JobObservation, attempt: Attempt, policy: RetryPolicy
) -> tuple[Task, str]:
    """The task's next attempt (its record, its scaled request) and the reason to write."""
    assert obs.end_cause is not None
    known = task.attempts or first_of(task.requirements)
    ended = known.ended(
        a.jobid or obs.job_id or "", obs.end_cause, usage_of(obs, task.requirements.ppn)
    )
    attempts = ended.then(attempt)
    reason = Reason.RETRY.format(
        ended=failure_reason(task, a, obs),
        number=attempt.number,
        attempts=policy.attempts,
        memory=attempt.memory_text,
        walltime=attempt.walltime_text,
    )
    return with_attempts(task, attempts), reason


def closed(task: Task, a: Assessor, obs: JobObservation | None) -> Task:
    """
    A task whose job ended: its attempt recorded with its job, its cause and what it used
    (the first attempt too, so that every result says what it asked for and used).
    """
    if obs is None or obs.end_cause is None:
        return task
    known = task.attempts or first_of(task.requirements)
    ended = known.ended(
        a.jobid or obs.job_id or "", obs.end_cause, usage_of(obs, task.requirements.ppn)
    )
    return replace(task, attempts=ended)


def first_of(req: TaskRequirements) -> Attempts:
    """The record of a task's first job: its request as the task was built with it."""
    return first_attempt(req.memory_mb, req.walltime_seconds)


def usage_of(obs: JobObservation, cores: int | None = None) -> Usage | None:
    """
    What the observation says the job used; None when it says nothing. `cores`: what the job
    asked for, where the scheduler does not say what it was given (the local executor).
    """
    cpus = obs.cpus or (cores if obs.cpu_seconds is not None else None)
    used = Usage(obs.memory_mb, obs.walltime_seconds, obs.cpu_seconds, cpus)
    return None if used == Usage() else used


def failure_reason(task: Task, a: Assessor, obs: JobObservation | None) -> str:
    """The reason in `note` for a job that ended without success: one per cause."""
    jobid = a.jobid or (obs.job_id if obs else None) or task.label
    cause = obs.end_cause if obs is not None else None
    if obs is not None and obs.exit_code not in (None, 0) and cause in (None, "exit_code"):
        return Reason.JOB_EXIT_CODE.format(jobid=jobid, code=obs.exit_code)
    req = task.requirements
    if cause == "memory":
        asked = f"{req.memory_mb} MB" if req.memory_mb else "no memory request"
        return Reason.JOB_MEMORY.format(jobid=jobid, asked=asked)
    if cause == "walltime":
        return Reason.JOB_WALLTIME.format(jobid=jobid, asked=format_duration(req.walltime_seconds))
    text = {
        "cancelled": Reason.JOB_CANCELLED,
        "preempted": Reason.JOB_PREEMPTED,
        "node_failure": Reason.JOB_NODE_FAILURE,
        "killed": Reason.JOB_KILLED,
        "scheduler": Reason.JOB_NOT_RUN,
    }.get(cause or "", Reason.JOB_VANISHED)
    return text.format(jobid=jobid)
