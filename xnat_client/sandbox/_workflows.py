"""
XNAT's workflow entries (`wrk:workflowData`): what the History of a session lists.

Writes and single entries follow WorkflowResource (`/data/workflows[/{WORKFLOW_ID}]`): a PUT
takes the entry's fields as `wrk:workflowData/<field>` query parameters or as a `wrk:Workflow`
XML body. Without an ID it finds the entry by pipeline_name, ID, scan_id and launch_time
(WorkflowUtils.getUniqueWorkflow) and updates it, else creates one, which needs ID,
launch_time, data_type and pipeline_name (400 otherwise); only the user who created an entry,
or a site admin, may change it (403). A GET answers the entry as XML unless `format=json`.

Listings follow WorkflowsRestlet (`/data/services/workflows/{PIPELINE_NAME}`): with an
`experiment` (its ID, or its label with `project`), the entries of that experiment whose
pipeline_name contains the name (any case), optionally of one `status`: the latest as an item
(`display=LATEST`, the default; 404 when there is none) or all as a table (`display=ALL`).
Without one, the latest entry of each experiment, as XNAT's SQL branch selects it.
"""

from __future__ import annotations

import datetime as dt
import json
from xml.etree import ElementTree

from starlette.requests import Request
from starlette.responses import Response

from xnat_client.sandbox._errors import HttpError
from xnat_client.sandbox._items import JsonItem, _item, envelope
from xnat_client.sandbox._listing import render
from xnat_client.sandbox._store import Store, StoredWorkflow, timestamp
from xnat_client.sandbox._xml import escape_xml

XSI_TYPE = "wrk:workflowData"
WRK = "http://nrg.wustl.edu/workflow"
# The schema's fields, in the order XNAT's document writes them.
ATTRIBUTES = (
    "data_type",
    "ID",
    "ExternalID",
    "scan_id",
    "current_step_launch_time",
    "current_step_id",
    "status",
    "create_user",
    "next_step_id",
    "step_description",
    "launch_time",
    "percentageComplete",
    "jobID",
    "pipeline_name",
)
ELEMENTS = ("comments", "details", "justification", "description", "src", "type", "category")
FIELDS = ATTRIBUTES + ELEMENTS
_CANONICAL = {name.lower(): name for name in FIELDS}
_TIMES = ("launch_time", "current_step_launch_time")
_REQUIRED = ("ID", "launch_time", "data_type", "pipeline_name")
_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
)
NOT_FOUND = "Unable to find the specified workflow."
NOT_YOURS = "You are not allowed to make changes to this workflow."
TABLE_COLUMNS = ["wrk_workflowData_id", *FIELDS]
# XNAT's SQL branch (no experiment named): these columns, the latest entry of each experiment.
LATEST_COLUMNS = ["label", "id", "externalid", "pipeline_name", "launch_time", "jobid"]
LATEST_COLUMNS += ["status", "current_step_launch_time", "current_step_id"]


def parse_time(text: str) -> dt.datetime:
    """A workflow time as XNAT reads it (Timestamp or xs:dateTime form); 500 otherwise."""
    value = text.strip()
    for form in _FORMATS:
        try:
            return dt.datetime.strptime(value, form)
        except ValueError:
            continue
    raise HttpError(500, f'java.text.ParseException: Unparseable date: "{value}"')


def _stored(name: str, value: str) -> str:
    """Times are kept in `java.sql.Timestamp` form, whichever form they came in."""
    return timestamp(parse_time(value)) if name in _TIMES and value else value


def fields_from_query(request: Request) -> dict[str, str]:
    """`wrk:workflowData/<field>=value` parameters (any case), XML-escaped as XNAT stores them."""
    found: dict[str, str] = {}
    for key, raw in request.query_params.multi_items():
        element, sep, name = key.partition("/")
        canonical = _CANONICAL.get(name.lower())
        if sep and element.lower() == XSI_TYPE.lower() and canonical:
            found[canonical] = _stored(canonical, escape_xml(raw))
    return found


def fields_from_xml(body: bytes) -> dict[str, str]:
    """A `wrk:Workflow` document's attributes and simple children; 400 when it is not one."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise HttpError(400, f"Unable to parse the workflow document: {exc}") from None
    if root.tag != f"{{{WRK}}}Workflow":
        raise HttpError(400, "Expected a wrk:Workflow document.")
    found = {_CANONICAL[k.lower()]: v for k, v in root.attrib.items() if k.lower() in _CANONICAL}
    for child in root:
        name = _CANONICAL.get(child.tag.rsplit("}", 1)[-1].lower())
        if name is not None and child.text is not None:
            found[name] = child.text
    return {name: _stored(name, value) for name, value in found.items()}


async def written_fields(request: Request) -> dict[str, str]:
    body = await request.body()
    if body.strip().startswith(b"<"):
        return fields_from_xml(body)
    return fields_from_query(request)


def find_unique(store: Store, fields: dict[str, str]) -> StoredWorkflow | None:
    """The entry with the same pipeline_name, ID, scan_id and launch_time, if any."""
    if not fields.get("launch_time"):
        return None
    launched = parse_time(fields["launch_time"])
    key = ("pipeline_name", "ID", "scan_id")
    wanted = tuple(fields.get(k, "") for k in key)
    matches = [
        w
        for w in store.workflows.values()
        if w.launched == launched and tuple(w.fields.get(k, "") for k in key) == wanted
    ]
    return matches[-1] if matches else None


def by_key(store: Store, key: str) -> StoredWorkflow | None:
    return store.workflows.get(int(key)) if key.isdigit() else None


async def put_workflow(
    request: Request, store: Store, user: str, key: str | None, *, may_write: bool, admin: bool
) -> Response:
    """Create or update one entry; 200 with an empty body."""
    fields = await written_fields(request)
    if key is not None:
        found = by_key(store, key)
        if found is None:
            raise HttpError(404, NOT_FOUND)
    else:
        found = find_unique(store, fields)
    if not may_write or (found is not None and found.owner != user and not admin):
        raise HttpError(403, NOT_YOURS)
    if found is None:
        if any(not fields.get(name) for name in _REQUIRED):
            raise HttpError(
                400,
                "Id, launch_time, data_type and pipeline_name are all required (scan_id may "
                "be specified when appropriate but is not required).",
            )
        fields.setdefault("create_user", user)
        store.add_workflow(fields, parse_time(fields["launch_time"]), user)
    else:
        found.fields.update(fields)
        found.launched = parse_time(found.fields["launch_time"])
    return Response(b"", media_type="text/plain")


def get_workflow(request: Request, store: Store, key: str | None) -> Response:
    """One entry, by its ID or by the fields that make it unique."""
    if key is not None:
        found = by_key(store, key)
    else:
        found = find_unique(store, fields_from_query(request))
    if found is None:
        raise HttpError(404, NOT_FOUND)
    return represent(found, request.query_params.get("format", "xml").lower())


def workflow_item(w: StoredWorkflow) -> JsonItem:
    data: dict[str, object] = {"wrk_workflowData_id": w.pk}
    data.update({name: w.fields[name] for name in FIELDS if w.fields.get(name)})
    return _item(XSI_TYPE, data, [], w.fields.get("launch_time", ""))


def to_xml(w: StoredWorkflow) -> str:
    """The `wrk:Workflow` document: the schema's attributes, then its text children."""
    attributes = "".join(
        f' {name}="{_xml_value(name, w.fields[name])}"' for name in ATTRIBUTES if w.fields.get(name)
    )
    children = "".join(
        f"<wrk:{name}>{w.fields[name]}</wrk:{name}>" for name in ELEMENTS if w.fields.get(name)
    )
    head = (
        f'<wrk:Workflow{attributes} xmlns:wrk="{WRK}"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    )
    body = f"{head}>{children}</wrk:Workflow>" if children else f"{head}/>"
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _xml_value(name: str, value: str) -> str:
    """Times as xs:dateTime (`2024-01-31T12:34:56.789`); other values as stored (escaped)."""
    return value.replace(" ", "T", 1) if name in _TIMES else value


def represent(w: StoredWorkflow, fmt: str) -> Response:
    if fmt == "json":
        return Response(json.dumps(envelope(workflow_item(w))), media_type="application/json")
    return Response(to_xml(w), media_type="text/xml")


def services_listing(request: Request, store: Store, pipeline: str | None) -> Response:
    """`GET /data/services/workflows/{PIPELINE_NAME}` (WorkflowsRestlet)."""
    params = request.query_params
    fmt = params.get("format", "json").lower()
    status = params.get("status")
    if not pipeline:
        raise HttpError(404, "Unable to find workflow entry with pipeline_name null")
    experiment = _experiment_id(store, params.get("experiment"), params.get("project"))
    if experiment is None:
        return _latest_of_each(store, pipeline, status, params.get("project"), fmt)
    pattern = pipeline.lower()
    found = [
        w
        for w in store.workflows.values()
        if w.fields.get("ID") == experiment
        and pattern in w.fields.get("pipeline_name", "").lower()
        and (status is None or w.fields.get("status") == status)
    ]
    if (params.get("display") or "LATEST").upper() == "LATEST":
        if not found:
            raise HttpError(
                404, f"Unable to find workflow entry for pipeline {pipeline} and experiment."
            )
        latest = max(found, key=lambda w: (w.launched, w.pk))
        return represent(latest, params.get("format", "xml").lower())
    rows = [_table_row(w) for w in found]
    return render(rows, TABLE_COLUMNS, fmt, {"title": "All workflows"})


def _experiment_id(store: Store, key: str | None, project: str | None) -> str | None:
    """The experiment named by ID, or by label within `project` (GetExptByProjectIdentifier)."""
    if not key:
        return None
    found = store.experiments.get(key) or (store.find_experiment(project, key) if project else None)
    return found.id if found is not None else None


def _table_row(w: StoredWorkflow) -> dict[str, str]:
    return {"wrk_workflowData_id": str(w.pk), **{name: w.fields.get(name, "") for name in FIELDS}}


def _latest_of_each(
    store: Store, pipeline: str, status: str | None, project: str | None, fmt: str
) -> Response:
    """XNAT's SQL branch: per experiment, its latest entry of the pipelines named."""
    patterns = [p.lower() for p in pipeline.split(",") if p]
    latest: dict[str, StoredWorkflow] = {}
    for w in store.workflows.values():
        name = w.fields.get("pipeline_name", "").lower()
        if not any(p in name for p in patterns):
            continue
        here = latest.get(w.fields.get("ID", ""))
        if here is None or (w.launched, w.pk) > (here.launched, here.pk):
            latest[w.fields.get("ID", "")] = w
    chosen = [
        w
        for w in latest.values()
        if (status is None or w.fields.get("status") == status)
        and (project is None or w.fields.get("ExternalID") == project)
    ]
    chosen.sort(key=lambda w: (w.fields.get("ID", ""), -w.launched.timestamp()))
    rows = [_latest_row(store, w) for w in chosen]
    return render(rows, LATEST_COLUMNS, fmt, {"title": f"All {status} workflows"})


def _latest_row(store: Store, w: StoredWorkflow) -> dict[str, str]:
    experiment = store.experiments.get(w.fields.get("ID", ""))
    f = w.fields
    return {
        "label": experiment.label if experiment is not None else "",
        "id": f.get("ID", ""),
        "externalid": f.get("ExternalID", ""),
        "pipeline_name": f.get("pipeline_name", ""),
        "launch_time": f.get("launch_time", ""),
        "jobid": f.get("jobID", ""),
        "status": f.get("status", ""),
        "current_step_launch_time": f.get("current_step_launch_time", ""),
        "current_step_id": f.get("current_step_id", ""),
    }
