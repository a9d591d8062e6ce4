"""
Creating, updating and deleting `proc:genProcData` assessors, and DAX's subject assessors
(`proc:subjGenProcData`: an experiment of the subject, not of a session).

An assessor and all its fields are written in ONE PUT to its label: XNAT creates it (201) or
merges the fields onto the existing one (200), so writing the same assessor twice is the same
request, which is what makes it safe to retry. A subject assessor is the one with no session:
every call given `session_id=""` addresses the subject's experiment, under its own type.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from ._exceptions import BadResponse
from ._http import HttpCore
from ._models import PROC_XSI_TYPE, SUBJECT_PROC_XSI_TYPE
from ._paths import segment

_XNAT_ID = re.compile(r"^[A-Za-z0-9_-]+$")

# our field name -> the genProcData path XNAT stores it under
_FIELD_PATHS = {
    "proctype": "proctype",
    "procversion": "procversion",
    "procstatus": "procstatus",
    "qcstatus": "validation/status",
    "note": "note",
    "inputs": "inputs",
    "jobid": "jobid",
    "jobnode": "jobnode",
    "jobstartdate": "jobstartdate",
    "memused": "memused",
    "walltimeused": "walltimeused",
    "date": "date",
}


class AssessorFields(BaseModel):
    """
    The genProcData fields to set; None leaves a field as it is on XNAT.

    `inputs` may be a mapping (sent as compact, key-sorted JSON so equal inputs give equal
    requests) or an already-encoded string. `qcstatus` is XNAT's `validation/status`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    proctype: str | None = None
    procversion: str | None = None
    procstatus: str | None = None
    qcstatus: str | None = None
    note: str | None = None
    inputs: dict[str, Any] | str | None = None
    jobid: str | None = None
    jobnode: str | None = None
    jobstartdate: str | None = None
    memused: str | None = None
    walltimeused: str | None = None
    date: str | None = None

    def query(self, xsi_type: str = PROC_XSI_TYPE) -> dict[str, str]:
        """Query parameters for the PUT, `xsiType` first (DAX's subject type, or genProcData)."""
        params = {"xsiType": xsi_type}
        for name, xpath in _FIELD_PATHS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if name == "inputs" and not isinstance(value, str):
                value = json.dumps(value, sort_keys=True, separators=(",", ":"))
            params[f"{xsi_type}/{xpath}"] = value
        return params


async def put_assessor(
    core: HttpCore,
    project: str,
    subject_id: str,
    session_id: str,
    label: str,
    fields: AssessorFields,
) -> str:
    """
    Create or update the assessor `label` of a session (of the subject, `session_id=""`);
    returns its XNAT ID.
    """
    subject = (
        f"/data/projects/{segment(project, 'project ID')}"
        f"/subjects/{segment(subject_id, 'subject ID')}"
    )
    if not session_id:
        path = f"{subject}/experiments/{segment(label, 'assessor label')}"
        return await _put(core, path, fields, SUBJECT_PROC_XSI_TYPE)
    path = (
        f"{subject}/experiments/{segment(session_id, 'session ID')}"
        f"/assessors/{segment(label, 'assessor label')}"
    )
    return await _put(core, path, fields)


async def _put(
    core: HttpCore, path: str, fields: AssessorFields, xsi_type: str = PROC_XSI_TYPE
) -> str:
    response = await core.request("PUT", path, params=fields.query(xsi_type))
    assessor_id = core.check_text("PUT", path, response).strip()
    if not _XNAT_ID.match(assessor_id):
        raise BadResponse(
            "the answer is not an assessor ID",
            method="PUT",
            path=path,
            status=response.status_code,
            excerpt=assessor_id[:80],
        )
    return assessor_id


async def update_assessor(
    core: HttpCore, session_id: str, assessor: str, fields: AssessorFields
) -> str:
    """
    Set fields of an existing assessor given by ID or label (a subject assessor, by its ID,
    with `session_id=""`); returns its XNAT ID.
    """
    if not session_id:
        path = f"/data/experiments/{segment(assessor, 'assessor ID')}"
        return await _put(core, path, fields, SUBJECT_PROC_XSI_TYPE)
    path = (
        f"/data/experiments/{segment(session_id, 'session ID')}"
        f"/assessors/{segment(assessor, 'assessor ID')}"
    )
    return await _put(core, path, fields)


async def delete_assessor(core: HttpCore, session_id: str, assessor_id: str) -> None:
    """Delete an assessor and its files (a subject assessor with `session_id=""`)."""
    path = f"/data/experiments/{segment(assessor_id, 'assessor ID')}"
    if session_id:
        path = (
            f"/data/experiments/{segment(session_id, 'session ID')}"
            f"/assessors/{segment(assessor_id, 'assessor ID')}"
        )
    await core.request("DELETE", path, params={"removeFiles": "true"})
