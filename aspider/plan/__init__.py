"""
Planning, pure: a snapshot, the processors and the jobs' states in; the actions of a sweep out.

Matching (which input combinations each processor has in each scope, and what blocks them),
the assessor state machine (`states.TRANSITIONS`), labels derived from inputs, and the planner
that turns (state, event) into actions within queue limits. No I/O: this package imports no
I/O library (anyio, httpx, asyncssh), so `--dry-run`, `explain` and the tests run it on plain
data. It may import `aspider.processors`, `aspider._exceptions`, `aspider._gc` and the data
models of `xnat_client`; the engine (`aspider.run`) stands on it.
"""

from aspider.plan.actions import (
    Action,
    CreateAssessor,
    Finalize,
    JobEnd,
    JobObservation,
    MarkFailed,
    RecordJob,
    Rerun,
    ResolveIntent,
    SchedulerState,
    SetStatus,
    Submit,
)
from aspider.plan.build import build_task, fill_file_names, placeholder_values
from aspider.plan.explain import ProcessorExplanation, explain_session
from aspider.plan.labels import InputsKey, assessor_label, inputs_key, proctype_of_label
from aspider.plan.made_from import MadeFrom, made_from, note_text, read_made_from
from aspider.plan.plan_json import plan_to_dict
from aspider.plan.planner import Finding, Plan, SessionPlan, plan, plan_projects
from aspider.plan.queue import IN_QUEUE, PlanLimits
from aspider.plan.retry import Attempt, Attempts, Usage, read_attempts, without_head
from aspider.plan.scope_matching import candidate_keys, match_scope
from aspider.plan.scopes import Scope, iter_scopes
from aspider.plan.sessions import session_order
from aspider.plan.settled import SettledMemo
from aspider.plan.snapshot_matching import (
    ScopeMatch,
    match_snapshots,
    match_snapshots_sync,
    not_applicable,
)
from aspider.plan.staleness import Staleness, StaleReason, StaleResult, find_stale
from aspider.plan.states import (
    IN_FLIGHT,
    NEEDS_ATTENTION,
    QC_PASSED,
    QC_RERUN,
    TRANSITIONS,
    Event,
    ProcStatus,
    QcStatus,
    Reason,
    normalise_procstatus,
    transition,
)
from aspider.plan.tasks import (
    InputResource,
    MatchResult,
    NotApplicable,
    OutputDecl,
    ResolvedInput,
    Task,
    TaskCandidate,
    TaskRequirements,
)
from aspider.plan.tuning import ProcessorUsage, Suggestion, processors_usage

__all__ = [
    "IN_FLIGHT",
    "IN_QUEUE",
    "NEEDS_ATTENTION",
    "QC_PASSED",
    "QC_RERUN",
    "TRANSITIONS",
    "Action",
    "Attempt",
    "Attempts",
    "CreateAssessor",
    "Event",
    "Finalize",
    "Finding",
    "InputResource",
    "InputsKey",
    "JobEnd",
    "JobObservation",
    "MadeFrom",
    "MarkFailed",
    "MatchResult",
    "NotApplicable",
    "OutputDecl",
    "Plan",
    "PlanLimits",
    "ProcStatus",
    "ProcessorExplanation",
    "ProcessorUsage",
    "QcStatus",
    "Reason",
    "RecordJob",
    "Rerun",
    "ResolveIntent",
    "ResolvedInput",
    "SchedulerState",
    "Scope",
    "ScopeMatch",
    "SessionPlan",
    "SetStatus",
    "SettledMemo",
    "StaleReason",
    "StaleResult",
    "Staleness",
    "Submit",
    "Suggestion",
    "Task",
    "TaskCandidate",
    "TaskRequirements",
    "Usage",
    "assessor_label",
    "build_task",
    "candidate_keys",
    "explain_session",
    "fill_file_names",
    "find_stale",
    "inputs_key",
    "iter_scopes",
    "made_from",
    "match_scope",
    "match_snapshots",
    "match_snapshots_sync",
    "normalise_procstatus",
    "not_applicable",
    "note_text",
    "placeholder_values",
    "plan",
    "plan_projects",
    "plan_to_dict",
    "processors_usage",
    "proctype_of_label",
    "read_attempts",
    "read_made_from",
    "session_order",
    "transition",
    "without_head",
]
