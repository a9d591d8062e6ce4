"""
One log record per action a sweep takes on a task: for a log collector, what was created,
submitted, finalized or failed, where, and under which job id.

The records go to the logger `aspider.actions` at INFO, with `project`, `session`, `label`,
`proctype`, `action`, `job_id` (and `reason` for a failure) as fields; `aspider run
--log-format json` writes each as one JSON line, and `--verbose` shows them as text.
"""

from __future__ import annotations

import logging

from aspider.plan.tasks import Task

log = logging.getLogger("aspider.actions")


def record_action(task: Task, action: str, *, job_id: str = "", reason: str = "") -> None:
    """Log one action on `task` (`created`, `submitted`, `completed`, `failed`, ...)."""
    fields = {
        "action": action,
        "project": task.project,
        "session": task.session_label,
        "label": task.label,
        "proctype": task.proctype,
        "job_id": job_id or None,
    }
    if reason:
        fields["reason"] = reason
    log.info("%s %s", action, task.label, extra={"fields": fields})
