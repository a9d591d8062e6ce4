"""
What a session's executor wrote to XNAT, so the session can be planned again without reading it.

After a session's actions complete an upstream task, its downstream processors are planned at
once (`aspider.run.tasks.chain`). The session as XNAT now holds it is the snapshot's session with
this sweep's own writes applied: the assessors it created, the fields it set, the output resources
it uploaded or removed. Reading it back would cost two requests per session and would have to
address it by label, which XNAT cannot do for every label (a `/` in it); what changed
underneath during the sweep is seen by the next sweep's snapshot.

The files of an assessor whose outputs this executor uploaded are kept too, as XNAT listed them
to verify the upload: a downstream task chained on it stages from that listing instead of
listing the same resource again a moment later.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aspider.plan import Task
from xnat_client import PROC_XSI_TYPE, Assessor, AssessorFields, FileEntry, Session

# AssessorFields' names that are Assessor attributes of the same meaning.
_SAME = (
    "proctype",
    "procversion",
    "procstatus",
    "qcstatus",
    "note",
    "jobid",
    "jobnode",
    "jobstartdate",
    "memused",
    "walltimeused",
)


@dataclass
class WriteLedger:
    """Every write of one session's executor, by assessor ID."""

    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: dict[str, Task] = field(default_factory=dict)
    resources: dict[str, set[str]] = field(default_factory=dict)  # after uploads and removals
    # assessor ID -> every file of its output resources, as listed right after our upload
    files: dict[str, list[FileEntry]] = field(default_factory=dict)

    def wrote(self, assessor_id: str, written: AssessorFields) -> None:
        changes = self.fields.setdefault(assessor_id, {})
        for name in _SAME:
            value = getattr(written, name)
            if value is not None:
                changes[name] = value
        if written.inputs is not None:
            raw = written.inputs
            changes["inputs_raw"] = raw if isinstance(raw, str) else json.dumps(raw)
            changes["inputs"] = json.loads(raw) if isinstance(raw, str) else dict(raw)

    def create(self, assessor_id: str, task: Task, written: AssessorFields) -> None:
        self.created[assessor_id] = task
        self.wrote(assessor_id, written)

    def uploaded(
        self,
        assessor_id: str,
        current: tuple[str, ...],
        labels: set[str],
        listed: list[FileEntry] | None = None,
    ) -> None:
        self.resources[assessor_id] = self.resources.get(assessor_id, set(current)) | labels
        if listed is not None:
            self.files[assessor_id] = listed

    def removed_outputs(self, assessor_id: str, kept: set[str]) -> None:
        self.resources[assessor_id] = set(kept)
        self.files.pop(assessor_id, None)

    def updated(self, session: Session) -> Session:
        """`session` as XNAT holds it after these writes."""
        if not (self.fields or self.created or self.resources):
            return session
        assessors = [self._apply(a) for a in session.assessors]
        known = {a.id for a in session.assessors}
        assessors += [
            self._apply(_new(assessor_id, task, session))
            for assessor_id, task in self.created.items()
            if assessor_id not in known and task.session_id  # not a subject's own
        ]
        return session.model_copy(update={"assessors": tuple(assessors)})

    def _apply(self, assessor: Assessor) -> Assessor:
        update = dict(self.fields.get(assessor.id, {}))
        if assessor.id in self.resources:
            update["resources"] = tuple(sorted(self.resources[assessor.id]))
        return assessor.model_copy(update=update) if update else assessor


def _new(assessor_id: str, task: Task, session: Session) -> Assessor:
    return Assessor(
        id=assessor_id,
        label=task.label,
        project=task.project,
        session_id=session.id,
        session_label=session.label,
        xsi_type=PROC_XSI_TYPE,
    )
