"""
`aspider explain` as data (pure): for one session, what each processor would do and why.

For every processor: does it apply; each candidate's inputs (which scan or assessor, which
resources), what blocks it, the assessor that already exists for it (status, QC, note, and
where it stands in its processor's retry policy), and the actions the planner would take now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from aspider.plan.endings import policy_of
from aspider.plan.labels import InputsKey, inputs_key, normalise_inputs
from aspider.plan.planner import Plan
from aspider.plan.retry import Attempt, next_attempt, read_attempts
from aspider.plan.snapshot_matching import ScopeMatch
from aspider.plan.staleness import StaleResult
from aspider.plan.states import ProcStatus
from aspider.plan.tasks import TaskCandidate
from aspider.processors import Processor, RetryPolicy
from xnat_client.models import Assessor, ProjectSnapshot


@dataclass(frozen=True, slots=True)
class RetryOutlook:
    """Where a task stands in its processor's retry policy, as `explain` shows it."""

    attempt: int  # the attempt the assessor is at: 1 for its first submission
    attempts: int  # how many the policy allows
    next_request: str  # what a resubmission would ask for ("8 GB, 03:00:00"); "" if none left


def retry_outlook(assessor: Assessor, processor: Processor) -> RetryOutlook | None:
    """
    The attempt count and the next request of an existing task, from the attempts its note
    records (`aspider.plan.retry`) and the processor's `retry:`; None while it records none.
    """
    attempts = read_attempts(assessor.note)
    if attempts is None or assessor.procstatus == ProcStatus.COMPLETE.value:
        return None  # a COMPLETE task's record says what it used, not where a retry stands
    policy = policy_of(processor, RetryPolicy())
    current = attempts.current
    following = next_attempt(policy, current, current.cause) if current.cause else None
    asked = (
        f"{following.memory_text}, {following.walltime_text}"
        if isinstance(following, Attempt)
        else ""
    )
    return RetryOutlook(current.number, policy.attempts, asked)


@dataclass(frozen=True, slots=True)
class ProcessorExplanation:
    proctype: str
    procversion: str
    level: str
    applies: bool
    reasons: tuple[str, ...]
    tasks: tuple[dict[str, Any], ...]
    findings: tuple[str, ...]

    @property
    def can_run(self) -> bool:
        return self.applies and any(t["ready"] for t in self.tasks)


def explain_session(
    snapshot: ProjectSnapshot, session_label: str, matches: list[ScopeMatch], plan: Plan
) -> list[ProcessorExplanation]:
    """One explanation per processor whose scope includes the session."""
    session = snapshot.session(session_label)
    if session is None:
        return []
    out = []
    for match in matches:
        if session.id not in {s.id for s in match.scope.sessions}:
            continue
        anchor_plan = next(
            (s for s in plan.sessions if s.session_id == match.scope.anchor.id), None
        )
        actions = anchor_plan.actions if anchor_plan else ()
        findings = anchor_plan.findings if anchor_plan else ()
        proc = match.processor
        stale = {r.assessor.id: r for r in plan.staleness.stale}
        existing = [
            a for s in match.scope.sessions for a in s.assessors if a.proctype == proc.proctype
        ]
        tasks = tuple(
            _task(
                c,
                _existing(c, existing),
                [a.kind for a in actions if a.task.label in _labels(c, existing)],
                proc,
                stale,
            )
            for c in match.result.candidates
        )
        na = match.result.not_applicable
        out.append(
            ProcessorExplanation(
                proc.proctype,
                proc.procversion,
                proc.level,
                na is None,
                na.reasons if na else (),
                tasks,
                tuple(f"{f.label}: {f.message}" for f in findings if f.proctype == proc.proctype),
            )
        )
    return out


def _existing(cand: TaskCandidate, assessors: list[Assessor]) -> Assessor | None:
    found = [a for a in assessors if _key(a) == cand.key]
    return next((a for a in found if a.label == cand.label), found[0] if found else None)


def _labels(cand: TaskCandidate, assessors: list[Assessor]) -> set[str]:
    chosen = _existing(cand, assessors)
    return {cand.label} | ({chosen.label} if chosen else set())


def _key(a: Assessor) -> InputsKey | None:
    inputs = normalise_inputs(a.inputs)
    return None if inputs is None else inputs_key(inputs)


def _task(
    cand: TaskCandidate,
    a: Assessor | None,
    planned: list[str],
    proc: Processor,
    stale: Mapping[str, StaleResult],
) -> dict[str, Any]:
    retry = retry_outlook(a, proc) if a is not None else None
    found = stale.get(a.id) if a is not None else None
    return {
        "label": a.label if a else cand.label,
        "ready": cand.ready,
        "reasons": list(cand.reasons),
        "inputs": [
            {
                "name": i.name,
                "kind": i.kind,
                "scan": i.scan_id,
                "assessor": i.assessor_label,
                "session": i.session_label,
                "resources": [
                    {
                        "resource": r.resource,
                        "fmatch": r.fmatch,
                        "fdest": r.fdest,
                        "files": r.file_count,
                    }
                    for r in i.resources
                ],
            }
            for i in cand.inputs
        ],
        "assessor": None
        if a is None
        else {
            "label": a.label,
            "procstatus": a.procstatus,
            "qcstatus": a.qcstatus,
            "note": a.note,
            "jobid": a.jobid,
            "retry": None if retry is None else asdict(retry),
            # why its result is stale ([]: it is not, or it is not COMPLETE)
            "stale": [] if found is None else [f"{r.kind}: {r.text}" for r in found.reasons],
        },
        "planned": planned,
    }
