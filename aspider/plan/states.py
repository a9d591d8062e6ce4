"""
The life of an assessor: one state machine, in one table.

`procstatus` (proc:genProcData/procstatus) is the state of record and `validation/status` is
the QC status, both with DAX's vocabulary so DAX dashboards keep working. Every blocked or failed
task carries its reason in ONE field: the assessor's `note` (Assessor.note, written as
proc:genProcData/note). The planner turns (state, event) into actions by looking up
`TRANSITIONS`; docs/states.md is generated from the same table (`render_markdown`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProcStatus(StrEnum):
    NEED_INPUTS = "NEED_INPUTS"
    NEED_TO_RUN = "NEED_TO_RUN"
    JOB_RUNNING = "JOB_RUNNING"
    JOB_FAILED = "JOB_FAILED"
    READY_TO_UPLOAD = "READY_TO_UPLOAD"
    UPLOADING = "UPLOADING"
    COMPLETE = "COMPLETE"
    NO_DATA = "NO_DATA"


class QcStatus(StrEnum):
    JOB_PENDING = "Job Pending"
    NEEDS_QA = "Needs QA"
    PASSED = "Passed"
    GOOD = "Good"
    PASSED_WITH_EDITS = "Passed with edits"
    FAILED = "Failed"
    BAD = "Bad"
    POOR = "Poor"
    RERUN = "Rerun"
    REPROC = "Reproc"
    DO_NOT_RUN = "Do Not Run"
    FAILED_NEEDS_REPROC = "Failed-needs reprocessing"


QC_PASSED = frozenset({QcStatus.PASSED, QcStatus.GOOD, QcStatus.PASSED_WITH_EDITS})
QC_RERUN = frozenset({QcStatus.RERUN, QcStatus.REPROC})

#: The states a person acts on, the most urgent first: failed, blocked on its inputs, an upload
#: cut short.
NEEDS_ATTENTION = (ProcStatus.JOB_FAILED, ProcStatus.NEED_INPUTS, ProcStatus.UPLOADING)

#: The states of a task whose job was submitted and whose outputs are not yet in XNAT: the
#: engine follows them each sweep, a queue limit counts them, and a rerun leaves them alone.
IN_FLIGHT = frozenset({ProcStatus.JOB_RUNNING, ProcStatus.READY_TO_UPLOAD, ProcStatus.UPLOADING})


class Reason:
    """The texts written to `note`; the executor uses the same ones for what it discovers."""

    JOB_NO_OUTPUTS = "job ended normally (exit code 0) but wrote none of the declared outputs"
    JOB_MISSING_OUTPUTS = (
        "job ended normally (exit code 0) but these outputs are missing: {missing}"
    )
    JOB_VANISHED = "job {jobid} ended without an exit code (killed by the scheduler?)"
    JOB_EXIT_CODE = "job {jobid} exited with code {code}"
    # Why the scheduler stopped a job (`pbs.EndCause`), one reason per cause.
    JOB_MEMORY = "job {jobid} was killed for using more memory than it asked for ({asked})"
    JOB_WALLTIME = "job {jobid} was killed at its walltime limit ({asked})"
    JOB_CANCELLED = "job {jobid} was cancelled (scancel or qdel, by its owner or an administrator)"
    JOB_PREEMPTED = "job {jobid} was preempted (stopped to make room for other work)"
    JOB_NODE_FAILURE = "job {jobid} ended because its node failed"
    JOB_KILLED = "job {jobid} was killed by a signal; the scheduler gave no reason"
    JOB_NOT_RUN = "the scheduler could not start or run job {jobid}"
    RETRY = "{ended}; submitted again as attempt {number} of {attempts} ({memory}, {walltime})"
    RETRIES_USED_UP = "{ended}; not submitted again: {why}"
    INTENT_NO_JOB = "submission was recorded but the scheduler has no job {label}; submitting again"
    JOB_ELSEWHERE = (
        "its job directory is not in this work root: left to the engine that submitted it"
    )
    RERUN_QC = "QC status set to {qc}: outputs removed, running again"
    RERUN_BY_HAND = "procstatus set to NEED_TO_RUN by hand: outputs removed, running again"
    STAGING_FAILED = "staging inputs failed: {error}"
    SUBMIT_FAILED = "submission failed: {error}"
    SUBMIT_NOT_SENT = (
        "submission did not reach the scheduler ({error}); a later sweep submits it again"
    )
    UPLOAD_FAILED = "upload of outputs failed: {error}"
    LEGACY_ERROR = "job terminated with an error (legacy status JOB_ERROR)"
    LEGACY_PREREQUISITES = "prerequisites not complete (legacy status PRE_RUNNING)"


# Statuses from older tools mapped onto the table: raw value -> (status, reason or "").
LEGACY_STATUSES: dict[str, tuple[ProcStatus, str]] = {
    "BUILD_COMPLETE": (ProcStatus.COMPLETE, ""),
    "PRE_RUNNING": (ProcStatus.NEED_INPUTS, Reason.LEGACY_PREREQUISITES),
    "PRE_COMPLETE": (ProcStatus.NEED_TO_RUN, ""),
    "JOB_COMPLETE": (ProcStatus.READY_TO_UPLOAD, ""),
    "XVFB_ERROR": (ProcStatus.JOB_FAILED, Reason.JOB_NO_OUTPUTS),
    "JOB_ERROR": (ProcStatus.JOB_FAILED, Reason.LEGACY_ERROR),
    "MISSING_INPUTS": (ProcStatus.NEED_INPUTS, ""),
    "JOB_BUILT": (ProcStatus.NEED_TO_RUN, ""),
    "READY_TO_COMPLETE": (ProcStatus.UPLOADING, ""),
}


_STATUS_CACHE: dict[str, ProcStatus | None] = {}


def normalise_procstatus(raw: str) -> ProcStatus | None:
    """The table's status for a stored value (legacy ones mapped); None when unknown."""
    try:
        return _STATUS_CACHE[raw]
    except KeyError:
        status = _STATUS_CACHE[raw] = _normalise(raw)
        return status


def _normalise(raw: str) -> ProcStatus | None:
    text = raw.strip().upper()
    try:
        return ProcStatus(text)
    except ValueError:
        legacy = LEGACY_STATUSES.get(text)
        return legacy[0] if legacy else None


class Event(StrEnum):
    INPUTS_READY = "inputs ready"
    INPUTS_BLOCKED = "inputs blocked, reason changed"
    INPUTS_STILL_BLOCKED = "inputs blocked, same reason"
    OUTPUTS_PRESENT = "set to NEED_TO_RUN with outputs present"
    QC_RERUN = "QC set to Rerun/Reproc"
    NO_JOBID_UNRESOLVED = "no job id, job not yet looked up"
    NO_JOBID_FOUND = "no job id, job found queued/running"
    NO_JOBID_EXITED = "no job id, job found with exit code"
    NO_JOBID_GONE = "no job id, no such job"
    JOB_ACTIVE = "job queued or running"
    JOB_EXITED_ZERO = "job exit code 0"
    JOB_EXITED_NONZERO = "job exit code not 0"
    JOB_OUT_OF_MEMORY = "job killed: over its memory request"
    JOB_OUT_OF_TIME = "job killed: at its walltime limit"
    JOB_CANCELLED = "job cancelled"
    JOB_PREEMPTED = "job preempted"
    JOB_NODE_FAILED = "job's node failed"
    JOB_KILLED = "job killed by a signal, no reason given"
    JOB_NOT_RUN = "the scheduler could not run the job"
    JOB_GONE = "job gone without exit code"
    JOB_RETRY = "job stopped for a cause its retry policy names, attempts left"
    RETRIES_USED_UP = "job stopped for a retry cause, no attempt left"
    JOB_UNKNOWN = "job state unknown"
    JOB_ELSEWHERE = "job directory not in this work root"
    STEADY = "nothing new"
    # What the executor finds while it carries out an action (its own transitions).
    STAGING_INPUTS_MISSING = "staging: declared inputs not there"
    STAGING_FAILED = "staging: XNAT or the cluster failed"
    SUBMIT_REFUSED = "the scheduler refused the job"
    SUBMIT_NOT_SENT = "the cluster was not reached: no job"
    SUBMITTED = "the scheduler took the job, held"
    OUTPUTS_MISSING = "exit code 0, declared outputs missing"
    UPLOAD_FAILED = "upload of outputs failed"
    UPLOAD_VERIFIED = "every output uploaded and verified"


class ActionKind(StrEnum):
    """
    What a row of the table asks for: the planner's actions (each the `kind` of its class in
    `aspider.plan.actions`, `RETRY` a `Submit` of the next attempt) and the executor's steps.
    """

    CREATE = "create"
    SET_STATUS = "set_status"
    SUBMIT = "submit"
    RETRY = "retry"
    RESOLVE_INTENT = "resolve_intent"
    RECORD_JOB = "record_job"
    FINALIZE = "finalize"
    MARK_FAILED = "mark_failed"
    RERUN = "rerun"
    RELEASE = "release"  # the executor's: a job submitted held, recorded, then let go


@dataclass(frozen=True)
class Transition:
    """What the planner does for (state, event): actions in order, the status they lead to."""

    state: ProcStatus | None  # None: no assessor exists yet
    event: Event
    actions: tuple[ActionKind, ...]
    next_state: ProcStatus | None
    note: str = ""


_S = ProcStatus
_E = Event
_A = ActionKind
TRANSITIONS: tuple[Transition, ...] = (
    Transition(None, _E.INPUTS_READY, (_A.CREATE, _A.SUBMIT), _S.JOB_RUNNING, "create NEED_TO_RUN"),
    Transition(None, _E.INPUTS_BLOCKED, (_A.CREATE,), _S.NEED_INPUTS, "create with the reason"),
    Transition(_S.NEED_INPUTS, _E.INPUTS_READY, (_A.SET_STATUS, _A.SUBMIT), _S.JOB_RUNNING),
    Transition(_S.NEED_INPUTS, _E.INPUTS_BLOCKED, (_A.SET_STATUS,), _S.NEED_INPUTS, "new reason"),
    Transition(_S.NEED_INPUTS, _E.INPUTS_STILL_BLOCKED, (), _S.NEED_INPUTS),
    Transition(_S.NEED_TO_RUN, _E.INPUTS_READY, (_A.SUBMIT,), _S.JOB_RUNNING),
    Transition(_S.NEED_TO_RUN, _E.OUTPUTS_PRESENT, (_A.RERUN, _A.SUBMIT), _S.JOB_RUNNING),
    Transition(_S.NEED_TO_RUN, _E.INPUTS_BLOCKED, (_A.SET_STATUS,), _S.NEED_INPUTS),
    Transition(_S.NEED_TO_RUN, _E.INPUTS_STILL_BLOCKED, (_A.SET_STATUS,), _S.NEED_INPUTS),
    Transition(_S.JOB_RUNNING, _E.NO_JOBID_UNRESOLVED, (_A.RESOLVE_INTENT,), _S.JOB_RUNNING),
    Transition(_S.JOB_RUNNING, _E.NO_JOBID_FOUND, (_A.RECORD_JOB,), _S.JOB_RUNNING),
    Transition(_S.JOB_RUNNING, _E.NO_JOBID_EXITED, (_A.FINALIZE,), _S.COMPLETE, "as exit code"),
    Transition(
        _S.JOB_RUNNING, _E.NO_JOBID_GONE, (_A.SUBMIT,), _S.JOB_RUNNING, Reason.INTENT_NO_JOB
    ),
    Transition(_S.JOB_RUNNING, _E.JOB_ACTIVE, (), _S.JOB_RUNNING),
    Transition(_S.JOB_RUNNING, _E.JOB_UNKNOWN, (), _S.JOB_RUNNING, "wait for the next sweep"),
    Transition(_S.JOB_RUNNING, _E.JOB_ELSEWHERE, (), _S.JOB_RUNNING, Reason.JOB_ELSEWHERE),
    Transition(_S.JOB_RUNNING, _E.JOB_EXITED_ZERO, (_A.FINALIZE,), _S.COMPLETE, "or JOB_FAILED"),
    Transition(
        _S.JOB_RUNNING,
        _E.JOB_EXITED_NONZERO,
        (_A.MARK_FAILED,),
        _S.JOB_FAILED,
        Reason.JOB_EXIT_CODE,
    ),
    Transition(
        _S.JOB_RUNNING, _E.JOB_OUT_OF_MEMORY, (_A.MARK_FAILED,), _S.JOB_FAILED, Reason.JOB_MEMORY
    ),
    Transition(
        _S.JOB_RUNNING, _E.JOB_OUT_OF_TIME, (_A.MARK_FAILED,), _S.JOB_FAILED, Reason.JOB_WALLTIME
    ),
    Transition(
        _S.JOB_RUNNING, _E.JOB_CANCELLED, (_A.MARK_FAILED,), _S.JOB_FAILED, Reason.JOB_CANCELLED
    ),
    Transition(
        _S.JOB_RUNNING, _E.JOB_PREEMPTED, (_A.MARK_FAILED,), _S.JOB_FAILED, Reason.JOB_PREEMPTED
    ),
    Transition(
        _S.JOB_RUNNING,
        _E.JOB_NODE_FAILED,
        (_A.MARK_FAILED,),
        _S.JOB_FAILED,
        Reason.JOB_NODE_FAILURE,
    ),
    Transition(_S.JOB_RUNNING, _E.JOB_KILLED, (_A.MARK_FAILED,), _S.JOB_FAILED, Reason.JOB_KILLED),
    Transition(
        _S.JOB_RUNNING, _E.JOB_NOT_RUN, (_A.MARK_FAILED,), _S.JOB_FAILED, Reason.JOB_NOT_RUN
    ),
    Transition(_S.JOB_RUNNING, _E.JOB_GONE, (_A.MARK_FAILED,), _S.JOB_FAILED, Reason.JOB_VANISHED),
    Transition(_S.JOB_RUNNING, _E.JOB_RETRY, (_A.RETRY,), _S.JOB_RUNNING, Reason.RETRY),
    Transition(
        _S.JOB_RUNNING, _E.RETRIES_USED_UP, (_A.MARK_FAILED,), _S.JOB_FAILED, Reason.RETRIES_USED_UP
    ),
    Transition(_S.READY_TO_UPLOAD, _E.STEADY, (_A.FINALIZE,), _S.COMPLETE),
    Transition(_S.READY_TO_UPLOAD, _E.JOB_ELSEWHERE, (), _S.READY_TO_UPLOAD, Reason.JOB_ELSEWHERE),
    Transition(_S.UPLOADING, _E.JOB_ELSEWHERE, (), _S.UPLOADING, Reason.JOB_ELSEWHERE),
    Transition(_S.UPLOADING, _E.STEADY, (_A.FINALIZE,), _S.COMPLETE, "an interrupted upload"),
    Transition(_S.COMPLETE, _E.STEADY, (), _S.COMPLETE),
    Transition(_S.COMPLETE, _E.QC_RERUN, (_A.RERUN, _A.SUBMIT), _S.JOB_RUNNING, Reason.RERUN_QC),
    Transition(_S.JOB_FAILED, _E.STEADY, (), _S.JOB_FAILED, "until a person sends it back"),
    Transition(_S.JOB_FAILED, _E.QC_RERUN, (_A.RERUN, _A.SUBMIT), _S.JOB_RUNNING, Reason.RERUN_QC),
    Transition(_S.NO_DATA, _E.STEADY, (), _S.NO_DATA),
    Transition(_S.NO_DATA, _E.QC_RERUN, (_A.RERUN, _A.SUBMIT), _S.JOB_RUNNING, Reason.RERUN_QC),
    # The executor's own transitions, while it carries out `submit` and `finalize`: its status
    # writes are looked up here too (`after`), so this table is every status change there is.
    Transition(_S.NEED_TO_RUN, _E.STAGING_INPUTS_MISSING, (), _S.NEED_INPUTS, "what is missing"),
    Transition(_S.NEED_TO_RUN, _E.STAGING_FAILED, (), _S.NEED_TO_RUN, Reason.STAGING_FAILED),
    Transition(_S.NEED_TO_RUN, _E.SUBMIT_REFUSED, (), _S.JOB_FAILED, Reason.SUBMIT_FAILED),
    Transition(_S.NEED_TO_RUN, _E.SUBMIT_NOT_SENT, (), _S.NEED_TO_RUN, "submitted again later"),
    Transition(
        _S.NEED_TO_RUN,
        _E.SUBMITTED,
        (_A.RELEASE,),
        _S.JOB_RUNNING,
        "one write with the job id (a new task: created so), then the job released",
    ),
    Transition(_S.JOB_RUNNING, _E.OUTPUTS_MISSING, (), _S.JOB_FAILED, Reason.JOB_NO_OUTPUTS),
    Transition(_S.JOB_RUNNING, _E.UPLOAD_FAILED, (), _S.UPLOADING, "retried by the next sweep"),
    Transition(
        _S.JOB_RUNNING, _E.UPLOAD_VERIFIED, (), _S.COMPLETE, "one write: QC Needs QA, usage"
    ),
)

#: The executor's events: each has one row, whatever state its action started from.
EXECUTOR_EVENTS = frozenset(
    {
        Event.STAGING_INPUTS_MISSING,
        Event.STAGING_FAILED,
        Event.SUBMIT_REFUSED,
        Event.SUBMIT_NOT_SENT,
        Event.SUBMITTED,
        Event.OUTPUTS_MISSING,
        Event.UPLOAD_FAILED,
        Event.UPLOAD_VERIFIED,
    }
)

_BY_KEY = {(t.state, t.event): t for t in TRANSITIONS}
_BY_EXECUTOR_EVENT = {t.event: t for t in TRANSITIONS if t.event in EXECUTOR_EVENTS}


def transition(state: ProcStatus | None, event: Event) -> Transition:
    """
    The row for (state, event).

    Raises:
        KeyError: the pair is not in the table (a planner bug: every reachable pair is listed).
    """
    return _BY_KEY[(state, event)]


def after(event: Event) -> ProcStatus:
    """
    The status the executor writes when it finds `event` (one of `EXECUTOR_EVENTS`).

    Raises:
        KeyError: `event` is a planner event, not one of the executor's.
    """
    state = _BY_EXECUTOR_EVENT[event].next_state
    assert state is not None  # every executor row leads to a status
    return state


def render_markdown() -> str:
    """The transition table as Markdown, for docs/states.md (a test keeps them equal)."""
    rows = [
        "| state | event | actions | leads to | note |",
        "|---|---|---|---|---|",
    ]
    for t in TRANSITIONS:
        state = t.state.value if t.state else "(no assessor)"
        actions = ", ".join(t.actions) or "none"
        nxt = t.next_state.value if t.next_state else ""
        rows.append(f"| {state} | {t.event.value} | {actions} | {nxt} | {t.note} |")
    legacy = ["| legacy status | maps to | note |", "|---|---|---|"]
    legacy += [f"| {k} | {v.value} | {r} |" for k, (v, r) in LEGACY_STATUSES.items()]
    return "\n".join(rows) + "\n\n" + "\n".join(legacy) + "\n"
