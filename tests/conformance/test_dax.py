"""DAX's XnatUtils listing functions, unpatched and in their own venv, over HTTP and HTTPS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conformance.conftest import run_client
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio


async def test_dax_lists_subjects_sessions_scans_and_assessors(
    client_pythons: dict[str, Path], serve: Any
) -> None:
    """get_subjects, get_sessions, get_project_scans, get_project_assessors,
    list_project_assessors and get_scans return what the store holds."""
    server = XnatServer()
    generate_project(server, "DEMO", sessions=4, seed=5)
    async with serve(server) as served:
        seen = await run_client(
            client_pythons["dax"], "dax_listings.py", served, "admin", "admin", "DEMO"
        )
    store = server.store
    demo = store.projects["DEMO"]
    people = sorted(demo.subjects.values(), key=lambda s: s.label)
    assert seen["subjects"] == [
        {
            "subject_label": s.label,
            "gender": s.fields["demographics/gender"],
            "handedness": s.fields["demographics/handedness"],
            "yob": s.fields["demographics/yob"],
            "src": "synthetic",
        }
        for s in people
    ]
    sessions = sorted(demo.sessions.values(), key=lambda s: s.label)
    label_of = {s.id: s.label for s in people}
    assert seen["sessions"] == [
        {
            "session_label": s.label,
            "subject_label": label_of[s.subject_id],
            "type": "MR",
            "gender": store.subjects[s.subject_id].fields["demographics/gender"],
        }
        for s in sessions
    ]
    scans = [
        {
            "session_label": s.label,
            "scan_id": sc.id,
            "scan_type": sc.type,
            "scan_quality": sc.quality,
            "resources": list(sc.resources),
            "subject_label": label_of[s.subject_id],
        }
        for s in sessions
        for sc in s.scans.values()
    ]
    assert seen["project_scans"] == scans
    assessors = sorted((a for s in sessions for a in s.assessors.values()), key=lambda a: a.label)
    expected = [
        {
            "label": a.label,
            "session_label": store.experiments[a.session_id].label,
            "proctype": a.fields["proctype"],
            "procstatus": a.fields["procstatus"],
            "qcstatus": a.fields["validation/status"],
            "resources": list(a.out) or [""],
        }
        for a in assessors
    ]
    assert seen["project_assessors"] == expected
    assert seen["listed_assessors"] == expected
    first = seen["scans"]["session"]
    assert seen["scans"]["rows"] == [
        {**row, "resources": None} for row in scans if row["session_label"] == first
    ]
