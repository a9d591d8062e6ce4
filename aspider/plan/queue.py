"""
The queue limits of a plan: how many of our jobs are already queued or running, and which
requested submissions fit, in priority order (processor priority, higher first; then oldest
session; then label). A job already queued or running (or a recorded intent) counts against
the limits and is never submitted again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from aspider.plan.actions import JobObservation, Submit
from aspider.plan.states import ProcStatus, normalise_procstatus
from aspider.plan.tuning import Suggestion
from aspider.processors import Processor, RetryPolicy, TunePolicy
from xnat_client.models import ProjectSnapshot

#: The scheduler states of a job that holds a place in the queue.
IN_QUEUE = ("queued", "running", "unknown")

#: (sort key, session id, the submission, its processor): a submission the planner asks for.
SubmitRequest = tuple[tuple[int, str, str, str], str, Submit, Processor]


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """
    What the site sets for planning: queue limits (None: unlimited; a processor's own
    `max_queued` beats the default) and the retry policy a processor's own `retry:` refines.
    """

    max_queued: int | None = None
    max_queued_per_processor: int | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # How right-sizing turns earlier jobs into a request, for the processors that ask for it,
    # and the requests already worked out from a wider view (a chained plan takes its sweep's)
    tune: TunePolicy = field(default_factory=TunePolicy)
    suggestions: tuple[tuple[str, Suggestion | None], ...] = ()
    # Jobs of the same run or service that this plan does not see (other projects'), which
    # the limits cover too: a site's max_queued is one promise for everything aspider runs.
    elsewhere: int = 0
    elsewhere_per_processor: tuple[tuple[str, int], ...] = ()


def count_in_queue(
    snapshots: Sequence[ProjectSnapshot],
    observations: Mapping[str, JobObservation],
    proctypes: set[str],
) -> tuple[int, dict[str, int]]:
    """
    The jobs of these processors that are queued or running.

    Only our processors' assessors count: one of another pipeline left JOB_RUNNING (DAX leaves
    such records behind when its jobs vanish) is not a job we can see end, and counted, it
    would hold a place in the queue for ever.
    """
    total = 0
    per: dict[str, int] = defaultdict(int)
    for snap in snapshots:
        for _, a in snap.every_assessor():
            if a.proctype not in proctypes:
                continue
            if normalise_procstatus(a.procstatus) is not ProcStatus.JOB_RUNNING:
                continue
            obs = observations.get(a.label)
            if obs is None or (obs.end_cause is None and obs.scheduler_state in IN_QUEUE):
                total += 1
                per[a.proctype] += 1
    return total, per


def grant_submissions(
    requests: Iterable[SubmitRequest], limits: PlanLimits, in_queue: int, per: dict[str, int]
) -> tuple[list[tuple[str, Submit]], list[str]]:
    """The submissions granted (session id, submission) and the labels deferred for room."""
    granted: list[tuple[str, Submit]] = []
    deferred: list[str] = []
    for _, session_id, submit, proc in sorted(requests, key=lambda r: r[0]):
        cap = proc.max_queued if proc.max_queued is not None else limits.max_queued_per_processor
        full = limits.max_queued is not None and in_queue >= limits.max_queued
        if full or (cap is not None and per[proc.proctype] >= cap):
            deferred.append(submit.task.label)
            continue
        in_queue += 1
        per[proc.proctype] += 1
        granted.append((session_id, submit))
    return granted, deferred
