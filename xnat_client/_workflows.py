"""
Workflow entries (`wrk:workflowData`): writing one step, reading an experiment's steps.

A write is one PUT of /data/workflows with the entry's fields as `wrk:workflowData/<field>`
parameters (XNAT's WorkflowResource). XNAT finds an existing entry by pipeline_name, ID,
scan_id and launch_time and updates it, so writing the same entry twice is the same request,
safe to retry. A read is one GET of /data/services/workflows/{pipeline} with `experiment=` and
`display=ALL` (WorkflowsRestlet, the listing pyxnat's `Pipeline.status` reads).
"""

from __future__ import annotations

from datetime import datetime

from ._cells import clean
from ._exceptions import BadResponse
from ._http import HttpCore
from ._models import Workflow
from ._paths import segment
from ._rows import Row, result_rows

ELEMENT = "wrk:workflowData"
LISTING = "/data/services/workflows"

# Our field name -> XNAT's, for what a writer sets (create_user and the key are XNAT's own).
_WRITTEN = {
    "experiment_id": "ID",
    "pipeline_name": "pipeline_name",
    "launch_time": "launch_time",
    "status": "status",
    "data_type": "data_type",
    "project": "ExternalID",
    "step_id": "current_step_id",
    "step_description": "step_description",
    "step_launch_time": "current_step_launch_time",
    "percent_complete": "percentageComplete",
    "job_id": "jobID",
    "comments": "comments",
    "details": "details",
    "scan_id": "scan_id",
}
_NOT_TEXT = ("launch_time", "step_launch_time", "percent_complete")
_TEXT_READ = {k: v for k, v in _WRITTEN.items() if k not in _NOT_TEXT}
_TEXT_READ["create_user"] = "create_user"


def xnat_time(moment: datetime) -> str:
    """A time as XNAT prints a `java.sql.Timestamp`, to the ms: `2024-01-31 12:34:56.789`."""
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d}"


def workflow_query(entry: Workflow) -> dict[str, str]:
    """The PUT's parameters: every field that has a value, by its xpath."""
    params: dict[str, str] = {}
    for ours, theirs in _WRITTEN.items():
        value = getattr(entry, ours)
        if value is None or value == "":
            continue
        if isinstance(value, datetime):
            value = xnat_time(value)
        params[f"{ELEMENT}/{theirs}"] = str(value)
    return params


async def add_workflow(core: HttpCore, entry: Workflow) -> None:
    """Write one entry (a new one, or the same four keys again: an update)."""
    path = "/data/workflows"
    response = await core.request("PUT", path, params=workflow_query(entry))
    core.check_text("PUT", path, response)


async def list_workflows(
    core: HttpCore, pipeline: str, experiment: str, project: str | None = None
) -> list[Workflow]:
    """
    The entries of `pipeline` about one experiment (an ID, or a label with `project`), in the
    order they were written (XNAT's key, the order its History tab shows them in, newest
    last). XNAT lists every pipeline whose name contains `pipeline`; only `pipeline` is kept.
    """
    path = f"{LISTING}/{segment(pipeline, 'pipeline name')}"
    params = {"experiment": experiment, "display": "ALL"}
    if project is not None:
        params["project"] = project
    payload = await core.get_json(path, params)
    try:
        rows = result_rows(payload)
    except ValueError as exc:
        raise BadResponse(str(exc), method="GET", path=path, status=200) from None
    # Rows without XNAT's key come from its other branch (no such experiment): entries of
    # other experiments, which are not asked for.
    ours = [row for row in rows if "wrk_workflowData_id" in row]
    found = [w for w in map(_workflow, ours) if w is not None and w.pipeline_name == pipeline]
    return sorted(found, key=lambda w: (w.workflow_id is None, w.workflow_id or 0, w.launch_time))


def _workflow(row: Row) -> Workflow | None:
    """One listed entry; None for a row without a readable launch_time."""
    launched = _time(row.get("launch_time"))
    if launched is None:
        return None
    text = {ours: clean(str(row.get(theirs) or "")) for ours, theirs in _TEXT_READ.items()}
    key = str(row.get("wrk_workflowData_id") or "")
    return Workflow(
        **text,
        launch_time=launched,
        step_launch_time=_time(row.get("current_step_launch_time")),
        percent_complete=_percent(row.get("percentageComplete")),
        workflow_id=int(key) if key.isdigit() else None,
    )


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _percent(value: object) -> float | None:
    try:
        return float(str(value)) if value not in (None, "") else None
    except ValueError:
        return None
