"""
The planner's actions in a person's words: a short name for a table column (`run --dry-run`)
and a sentence of what will happen (`explain`). `--json` keeps the planner's own `kind`.
"""

from __future__ import annotations

from aspider.plan import Action

SHORT: dict[str, str] = {
    "create": "create",
    "set_status": "set status",
    "submit": "submit",
    "resolve_intent": "find its job",
    "record_job": "record job",
    "finalize": "upload",
    "mark_failed": "mark failed",
    "rerun": "rerun",
}

WILL: dict[str, str] = {
    "create": "will be created in XNAT",
    "set_status": "its status will be updated",
    "submit": "will be submitted: its inputs are staged and the job queued",
    "resolve_intent": "a submission was recorded without a job id: its job will be looked up "
    "by name before anything is submitted again",
    "record_job": "its running job will be recorded",
    "finalize": "its job ended well: the outputs will be uploaded to XNAT",
    "mark_failed": "its job failed: it will be marked JOB_FAILED with the reason",
    "rerun": "sent back for a rerun: its outputs will be removed and it will run again",
}


def short(kind: str) -> str:
    return SHORT.get(kind, kind.replace("_", " "))


def will(kind: str) -> str:
    return WILL.get(kind, kind.replace("_", " "))


def detail(action: Action) -> str:
    """The status an action writes and its reason, for the table's last column."""
    status = getattr(action, "procstatus", None)
    reason = getattr(action, "reason", "") or ""
    said = " ".join(str(x) for x in (status, reason) if x)
    return said or _QUIET_DETAIL.get(action.kind, "")


# What an action with no status or reason of its own is about, for the same column.
_QUIET_DETAIL = {
    "submit": "inputs ready: stage and queue",
    "finalize": "job ended 0: upload outputs",
    "resolve_intent": "look its job up by name",
    "record_job": "job found: record its id",
}
