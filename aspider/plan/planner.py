"""
Planning (pure): snapshots + processors + job observations + limits -> actions per session.

Two passes. The first decides, for every candidate and every assessor of a loaded proctype,
what to do by looking up (state, event) in `aspider.plan.states.TRANSITIONS`; submissions are only
requested. The second grants submissions in priority order (processor priority, higher first;
then oldest session; then label) within the global and per-processor queue limits. Jobs already
queued or running (and recorded intents) count against the limits and are never submitted again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from aspider._gc import gc_paused
from aspider.plan.actions import (
    Action,
    JobObservation,
    Rerun,
    Submit,
)
from aspider.plan.adoption import pair
from aspider.plan.artefacts import scope_index
from aspider.plan.build import build_task
from aspider.plan.endings import (
    counted,
    job_event,
    policy_of,
    retried,
    retry_decision,
    with_attempts,
)
from aspider.plan.queue import (
    IN_QUEUE,
    PlanLimits,
    SubmitRequest,
    count_in_queue,
    grant_submissions,
)
from aspider.plan.retry import Attempt, Attempts
from aspider.plan.row_actions import BUILD, ActionInputs
from aspider.plan.scopes import Scope, session_order
from aspider.plan.settled import SettledMemo
from aspider.plan.snapshot_matching import ScopeMatch, match_snapshots
from aspider.plan.staleness import Staleness, StaleResult, find_stale, reruns
from aspider.plan.states import (
    IN_FLIGHT,
    QC_RERUN,
    ActionKind,
    Event,
    ProcStatus,
    Reason,
    normalise_procstatus,
    transition,
)
from aspider.plan.tasks import (
    OutputDecl,
    Task,
    TaskCandidate,
    TaskRequirements,
)
from aspider.plan.tuning import Request, Suggestion, job_records, usage
from aspider.processors import Processor, RetryPolicy, TunePolicy
from xnat_client.models import Assessor, ProjectSnapshot, Session


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a person should know that needs no action (an assessor left alone, and why)."""

    proctype: str
    label: str
    message: str


@dataclass(frozen=True, slots=True)
class SessionPlan:
    project: str
    session_id: str
    session_label: str
    actions: tuple[Action, ...] = ()
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    sessions: tuple[SessionPlan, ...]
    deferred: tuple[str, ...] = ()  # labels whose submission waits for room in the queue
    in_queue: int = 0  # jobs queued or running before this plan
    in_queue_per_processor: tuple[tuple[str, int], ...] = ()  # the same, by proctype
    # Right-sizing's requests this plan worked out (proctype -> suggestion, None: none yet),
    # which a chained plan of one session uses rather than learn from that session alone
    suggestions: tuple[tuple[str, Suggestion | None], ...] = ()
    # The stale results of these projects (reported; those the processors' `rerun_stale`
    # names are sent back by this plan's Rerun actions)
    staleness: Staleness = field(default_factory=Staleness)

    def queued_after(self) -> tuple[int, dict[str, int]]:
        """This plan's jobs in the queue once its submissions are made: in all, and by proctype."""
        per = dict(self.in_queue_per_processor)
        submitted = [a.task.proctype for a in self.actions() if isinstance(a, Submit)]
        for proctype in submitted:
            per[proctype] = per.get(proctype, 0) + 1
        return self.in_queue + len(submitted), per

    def actions(self) -> list[Action]:
        return [a for s in self.sessions for a in s.actions]


async def plan_projects(
    snapshots: Sequence[ProjectSnapshot],
    processors: Sequence[Processor],
    observations: Iterable[JobObservation] = (),
    limits: PlanLimits = PlanLimits(),
    container_dir: str | None = None,
    memo: SettledMemo | None = None,
) -> Plan:
    """Match (awaiting custom hooks, skipping settled pairs) and plan: what a sweep calls."""
    matches = await match_snapshots(snapshots, processors, skip_settled=True, memo=memo)
    return plan(snapshots, matches, observations, limits, container_dir, processors, memo)


@dataclass
class _Builder:
    observations: Mapping[str, JobObservation]
    container_dir: str | None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    actions: dict[str, list[Action]] = field(default_factory=lambda: defaultdict(list))
    findings: dict[str, list[Finding]] = field(default_factory=lambda: defaultdict(list))
    requests: list[SubmitRequest] = field(default_factory=list)
    snapshots: Sequence[ProjectSnapshot] = ()
    tune: TunePolicy = field(default_factory=TunePolicy)
    suggestions: dict[str, Suggestion | None] = field(default_factory=dict)

    def suggestion(self, proc: Processor) -> Suggestion | None:
        """Right-sizing's request for a processor that asks for it, from these projects' jobs
        (worked out once per plan, and only for the processors that ask)."""
        if proc.proctype not in self.suggestions:
            req = proc.spec.requirements
            request = Request.of(req.memory_mb, req.walltime_seconds, policy_of(proc, self.retry))
            records = job_records(self.snapshots, proc.proctype)
            found = usage(proc.proctype, records, request, self.tune).suggestion
            self.suggestions[proc.proctype] = found
        return self.suggestions[proc.proctype]


def tuned_attempts(b: _Builder, proc: Processor, task: Task) -> Attempts | None:
    """
    The first attempt of a task whose processor asks to be right-sized (`requirements.tune`),
    with the request earlier jobs support; None while they support none. It is recorded when
    the job is submitted, so the job's record says what it asked and from how many jobs.
    """
    wanted = proc.spec.requirements.tune
    found = b.suggestion(proc) if wanted else None
    if found is None:
        return None
    req = task.requirements
    memory = found.memory_mb if "memory" in wanted else None
    walltime = found.walltime_seconds if "walltime" in wanted else None
    if memory is None and walltime is None:
        return None
    first = Attempt(
        1,
        memory or req.memory_mb,
        walltime or req.walltime_seconds,
        memory_tuned_from=found.from_jobs if memory else 0,
        walltime_tuned_from=found.from_jobs if walltime else 0,
    )
    return Attempts((first,))


def plan(
    snapshots: Sequence[ProjectSnapshot],
    matches: Sequence[ScopeMatch],
    observations: Iterable[JobObservation] = (),
    limits: PlanLimits = PlanLimits(),
    container_dir: str | None = None,
    processors: Sequence[Processor] = (),
    memo: SettledMemo | None = None,
) -> Plan:
    """
    The actions of one sweep (pure: no I/O, same inputs -> same plan).

    Args:
        snapshots: the projects as read from XNAT.
        matches: `match_snapshots(...)` of the same snapshots.
        observations: the executor's view of the jobs, by assessor label.
        limits: queue limits.
        container_dir: where relative container image paths live on the cluster.
        processors: every processor planned (settled pairs have no match); by default,
            those of `matches`.
        memo: the settled memo `matches` were found with: the sessions it proves unchanged
            are not looked at for stale results, and a session with a stale result is not
            remembered as settled.
    """
    b = _Builder(
        {o.label: o for o in observations},
        container_dir,
        limits.retry,
        snapshots=snapshots,
        tune=limits.tune,
        suggestions=dict(limits.suggestions),
    )
    procs = list(processors) or list({m.processor.proctype: m.processor for m in matches}.values())
    with gc_paused():
        for match in matches:
            _plan_scope(b, match)
        staleness = find_stale(snapshots, procs, memo)
    _send_back_stale(b, staleness, procs)
    ours = {m.processor.proctype for m in matches}
    in_queue, per_proctype = count_in_queue(snapshots, b.observations, ours)
    before = tuple(sorted(per_proctype.items()))
    counted = defaultdict(int, per_proctype)
    for proctype, n in limits.elsewhere_per_processor:
        counted[proctype] += n
    granted, deferred = grant_submissions(b.requests, limits, in_queue + limits.elsewhere, counted)
    for session_id, submit in granted:
        b.actions[session_id].append(submit)
    sessions = []
    for snap in snapshots:
        for s in sorted(snap.sessions, key=session_order):
            acts, finds = b.actions.get(s.id, ()), b.findings.get(s.id, ())
            if acts or finds:
                sessions.append(SessionPlan(snap.project, s.id, s.label, tuple(acts), tuple(finds)))
    return Plan(
        tuple(sessions),
        tuple(deferred),
        in_queue,
        before,
        tuple(b.suggestions.items()),
        staleness,
    )


def _send_back_stale(b: _Builder, staleness: Staleness, procs: Sequence[Processor]) -> None:
    """A Rerun for each stale result its processor's `rerun_stale` names, saying why."""
    by_proctype = {p.proctype: p for p in procs}

    def policy(proctype: str) -> frozenset[str]:
        return frozenset(by_proctype[proctype].spec.rerun_stale or ())

    if not any(p.spec.rerun_stale for p in procs):
        return
    sessions = {s.id: s for snap in b.snapshots for s in snap.sessions}
    for result in reruns(staleness, policy):
        anchor = _anchor_of(result, b.snapshots)
        if anchor is None:
            continue
        proc = by_proctype[result.proctype]
        session = sessions.get(result.session_id, anchor)
        task = task_of_assessor(proc, result.assessor, result.project, session)
        reason = f"stale ({result.text()}); sent back by rerun_stale"
        b.actions[anchor.id].append(Rerun(task, result.assessor, reason))


def _anchor_of(result: StaleResult, snapshots: Sequence[ProjectSnapshot]) -> Session | None:
    """The session a result's actions run on: its own, or its subject's first (subject level)."""
    for snap in snapshots:
        if snap.project != result.project:
            continue
        if result.session_id:
            return next((s for s in snap.sessions if s.id == result.session_id), None)
        mine = [s for s in snap.sessions if s.subject_id == result.subject_id]
        return min(mine, key=session_order) if mine else None
    return None


def _plan_scope(b: _Builder, match: ScopeMatch) -> None:
    proc, scope = match.processor, match.scope
    existing = scope_index(scope).of_proctype(proc.proctype)
    anchor = scope.anchor.id
    paired = pair(match.result.candidates, existing)
    for dup, chosen in paired.duplicates:
        msg = f"duplicate of {chosen.label if chosen else '?'} (same inputs); left alone"
        b.findings[anchor].append(Finding(proc.proctype, dup.label, msg))
    for cand, found in paired.pairs:
        _plan_candidate(b, proc, scope, cand, found)
    for a in paired.orphans:
        msg = "inputs match no current input combination; left alone"
        b.findings[anchor].append(Finding(proc.proctype, a.label, msg))
        _follow_job_only(b, proc, scope, a)
    for a in paired.adopted:
        msg = "assessor has no inputs field; taken as this task's by its label (as DAX would)"
        b.findings[anchor].append(Finding(proc.proctype, a.label, msg))
    for a in paired.unpaired:
        msg = "assessor has no inputs field; left alone"
        b.findings[anchor].append(Finding(proc.proctype, a.label, msg))
        _follow_job_only(b, proc, scope, a)
    bare = ", ".join(a.label for a in paired.unpaired)
    for cand in paired.blocked:
        msg = (
            f"blocked: {bare} has no inputs field, so whether it is this task cannot be told; "
            "set its inputs field (or delete it) and this task runs"
        )
        b.findings[anchor].append(Finding(proc.proctype, cand.label, msg))


def _plan_candidate(
    b: _Builder, proc: Processor, scope: Scope, cand: TaskCandidate, a: Assessor | None
) -> None:
    status = normalise_procstatus(a.procstatus) if a is not None else None
    if a is not None and status is None:
        message = f"unknown procstatus {a.procstatus!r}; left alone"
        b.findings[scope.anchor.id].append(Finding(proc.proctype, a.label, message))
        return
    obs = b.observations.get(a.label if a is not None else cand.label)
    attempts = counted(a, status)
    event = _event(cand, a, status, obs, attempts)
    attempts = counted(a, status, event)
    retry = retry_decision(proc, b.retry, attempts, event, obs)
    if retry is not None:
        event = Event.JOB_RETRY if isinstance(retry, Attempt) else Event.RETRIES_USED_UP
    row = transition(status, event)
    if event is Event.JOB_ELSEWHERE:
        assert a is not None
        b.findings[scope.anchor.id].append(Finding(proc.proctype, a.label, Reason.JOB_ELSEWHERE))
    if not row.actions:
        return
    task = build_task(proc, cand, b.container_dir)
    if attempts is None and status in (None, ProcStatus.NEED_TO_RUN):
        attempts = tuned_attempts(b, proc, task)
    task = with_attempts(task, attempts)
    reason = "; ".join(cand.reasons)  # resolved only now: most tasks never need it
    for kind in row.actions:
        if kind is ActionKind.RETRY:
            assert a is not None
            assert obs is not None
            assert isinstance(retry, Attempt)
            next_task, why = retried(task, a, obs, retry, policy_of(proc, b.retry))
            _queue_submit(b, proc, scope, Submit(next_task, a, why, retry=True))
        elif kind is ActionKind.SUBMIT:
            create = ActionKind.CREATE in row.actions
            _request_submit(b, proc, scope, task, a, obs, row.note, create=create)
        else:
            failed = retry if isinstance(retry, str) else None
            inputs = ActionInputs(task, a, cand, reason, obs, failed)
            b.actions[scope.anchor.id].append(BUILD[kind](inputs))


def _request_submit(
    b: _Builder,
    proc: Processor,
    scope: Scope,
    task: Task,
    a: Assessor | None,
    obs: JobObservation | None,
    note: str,
    *,
    create: bool,
) -> None:
    """Queue a submission for the second pass, unless the task already has a job."""
    has_job = obs is not None and obs.end_cause is None and obs.scheduler_state in IN_QUEUE
    if has_job and note != Reason.INTENT_NO_JOB:
        assert obs is not None
        msg = f"job {obs.job_id or task.label} is already {obs.scheduler_state}"
        b.findings[scope.anchor.id].append(Finding(proc.proctype, task.label, msg))
        return
    reason = note.format(label=task.label) if note == Reason.INTENT_NO_JOB else ""
    _queue_submit(b, proc, scope, Submit(task, None if create else a, reason))


def _queue_submit(b: _Builder, proc: Processor, scope: Scope, submit: Submit) -> None:
    key = (-proc.priority, *session_order(scope.anchor), submit.task.label)
    b.requests.append((key, scope.anchor.id, submit, proc))


def _event(
    cand: TaskCandidate,
    a: Assessor | None,
    status: ProcStatus | None,
    obs: JobObservation | None,
    attempts: Attempts | None = None,
) -> Event:
    if status is None or status in (ProcStatus.NEED_INPUTS, ProcStatus.NEED_TO_RUN):
        reason = "; ".join(cand.reasons)
        if not cand.ready:
            same = a is not None and a.note == reason and status is ProcStatus.NEED_INPUTS
            return Event.INPUTS_STILL_BLOCKED if same else Event.INPUTS_BLOCKED
        reset = a is not None and (bool(a.resources) or a.qcstatus in QC_RERUN)
        if status is ProcStatus.NEED_TO_RUN and reset:
            return Event.OUTPUTS_PRESENT
        return Event.INPUTS_READY
    assert a is not None
    if status in IN_FLIGHT and _elsewhere(obs):
        return Event.JOB_ELSEWHERE
    if status is ProcStatus.JOB_RUNNING:
        return job_event(a, obs, attempts)
    if status in (ProcStatus.COMPLETE, ProcStatus.JOB_FAILED, ProcStatus.NO_DATA):
        return Event.QC_RERUN if a.qcstatus in QC_RERUN else Event.STEADY
    return Event.STEADY


def _elsewhere(obs: JobObservation | None) -> bool:
    """The job is not this engine's: no directory here, no exit code, not seen running."""
    return (
        obs is not None
        and not obs.dir_exists
        and obs.exit_code is None
        and obs.scheduler_state not in ("queued", "running")
    )


def _follow_job_only(b: _Builder, proc: Processor, scope: Scope, a: Assessor) -> None:
    """An assessor no candidate claims still has its job followed to the end."""
    status = normalise_procstatus(a.procstatus)
    if status not in IN_FLIGHT:
        return
    obs = b.observations.get(a.label)
    attempts = counted(a, status)
    event = job_event(a, obs, attempts) if status is ProcStatus.JOB_RUNNING else Event.STEADY
    row = transition(status, event)
    task = with_attempts(_task_from_assessor(proc, a, scope), attempts)
    for kind in row.actions:
        if kind in BUILD:
            b.actions[scope.anchor.id].append(BUILD[kind](ActionInputs(task, a, None, "", obs)))


def _task_from_assessor(proc: Processor, a: Assessor, scope: Scope) -> Task:
    """A task for following an assessor's job when its inputs cannot be re-resolved."""
    session = next((s for s in scope.sessions if s.id == a.session_id), scope.anchor)
    return task_of_assessor(proc, a, scope.project, session)


def task_of_assessor(proc: Processor, a: Assessor, project: str, session: Session) -> Task:
    """A task for an assessor whose inputs are not resolved again (its job, a rerun)."""
    req = proc.spec.requirements
    return Task(
        label=a.label,
        proctype=proc.proctype,
        procversion=a.procversion or proc.procversion,
        level=proc.level,
        priority=proc.priority,
        project=project,
        subject_id=session.subject_id,
        subject_label=session.subject_label,
        session_id=session.id if a.session_id else "",  # "": a subject's own assessor
        session_label=session.label if a.session_id else "",
        scan_id=None,
        inputs=(),
        inputs_json=a.inputs_raw,
        command_script="",
        container=None,
        requirements=TaskRequirements(
            str(req.walltime), req.walltime_seconds, req.memory_mb, req.ppn
        ),
        outputs=tuple(OutputDecl(*o.resolved()) for o in proc.spec.outputs),
    )
