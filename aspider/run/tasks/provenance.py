"""
The provenance record of a result: what made it, as `provenance.json` beside its job's log.

It is begun when the task's inputs are staged (the processor, every input with the files
staged and their sizes, the container, this aspider), kept in the job's directory while the
job runs, and finished when its outputs are uploaded (the scheduler, the job, where and when it
ran, its exit code, what it used, every attempt). It then goes to XNAT in the request that
uploads the job's log: both files in one zip, unpacked into the assessor's OUTLOG resource
(`aspider.run.tasks.outputs.upload_outputs`), so a result's record costs no request of its
own. The summary a sweep reads without any request is the note's made-from record
(`aspider.plan.made_from`).

A job that began before this record existed (an older aspider, DAX) has none: its result is
"provenance unknown".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from aspider import __version__
from aspider.plan import JobObservation, Task, made_from
from aspider.run.tasks.staging import StagedFile
from pbs import PbsError, Transport

PROVENANCE_FILE = "provenance.json"
FORMAT = 1


def _staged(files: Iterable[StagedFile]) -> dict[str, list[dict[str, Any]]]:
    """resource URI -> the files staged from it (name in the resource, size, where it went)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for f in files:
        entry = {"name": f.path, "size": f.size, "staged_as": f"INPUTS/{f.target}"}
        found.setdefault(f.source.path, []).append(entry)
    return found


def begun(task: Task, staged: Iterable[StagedFile], container: Mapping[str, Any]) -> dict[str, Any]:
    """The record as the job is submitted: what it is made from."""
    files = _staged(staged)
    inputs = []
    for item in task.inputs:
        resources = [
            {
                "resource": r.resource,
                "file_count": r.file_count,
                "file_size": r.file_size,
                "files": files.get(r.uri, []),
            }
            for r in item.resources
        ]
        entry: dict[str, Any] = {"name": item.name, "kind": item.kind, "path": item.path}
        if item.kind == "assessor":
            entry |= {"assessor": item.assessor_label, "job_id": item.job_id}
        inputs.append(entry | {"resources": resources})
    made = made_from(task)
    return {
        "format": FORMAT,
        "assessor": task.label,
        "project": task.project,
        "subject": task.subject_label,
        "session": task.session_label,
        "processor": {
            "name": task.proctype,
            "version": task.procversion,
            "file": task.processor_file,
            "file_sha256": task.processor_file_digest,
            "definition_sha256": task.processor_digest,
        },
        "inputs": inputs,
        "container": dict(container),
        "made_from": made.text() if made is not None else None,
        "aspider": __version__,
        "staged_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


async def write_begun(
    transport: Transport, directory: PurePosixPath, record: Mapping[str, Any]
) -> None:
    await transport.write_bytes(str(directory / PROVENANCE_FILE), _encoded(record))


async def read_begun(transport: Transport, directory: PurePosixPath) -> dict[str, Any] | None:
    """The record begun at submission; None when the job has none (or it cannot be read)."""
    try:
        raw = await transport.read_bytes(str(directory / PROVENANCE_FILE))
        found = json.loads(raw)
    except (PbsError, OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("format") == FORMAT else None


def finished(
    record: Mapping[str, Any], task: Task, obs: JobObservation | None, scheduler: str
) -> dict[str, Any]:
    """The record with the job's own facts, as its result completes."""
    attempts = task.attempts.entries if task.attempts is not None else ()
    job = {
        "scheduler": scheduler,
        "job_id": obs.job_id if obs else None,
        "node": obs.node if obs else None,
        "started": _when(obs.started if obs else None),
        "ended": _when(obs.finished if obs else None),
        "exit_code": obs.exit_code if obs else None,
        "memory_used_mb": obs.memory_mb if obs else None,
        "walltime_used_seconds": obs.walltime_seconds if obs else None,
        "cpu_seconds": obs.cpu_seconds if obs else None,
        "attempts": [a.text() for a in attempts],
    }
    return {**record, "job": job, "completed_by": __version__}


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


def _encoded(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, indent=2, sort_keys=False).encode() + b"\n"


def record_bytes(record: Mapping[str, Any]) -> bytes:
    return _encoded(record)
