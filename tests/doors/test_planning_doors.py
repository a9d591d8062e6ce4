"""
explain, `run --dry-run` and `run` answer the same question, what the next sweep does, from one
planning path: asked of the same sandbox state, their answers are equal.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.doors.conftest import PROJECTS, SLOW, Doors


def _explained(doors: Doors, project: str) -> set[tuple[str, str]]:
    """(label, action) of every task explain says the next sweep acts on, over every session."""
    said: set[tuple[str, str]] = set()
    for session in doors.sessions(project):
        for item in doors.json("explain", project, session):
            said |= {(t["label"], kind) for t in item["tasks"] for kind in t["planned"]}
    return said


def _dry_run(doors: Doors, *projects: str) -> set[tuple[str, str]]:
    """(label, action) of every action `run --dry-run` plans."""
    plan = doors.json("run", *projects, "--dry-run")
    return {(a["task"]["label"], a["kind"]) for s in plan["sessions"] for a in s["actions"]}


def _proctypes(labels: Any) -> set[str]:
    return {label.split("-x-")[-2] for label in labels}


def test_a_project_processor_list_holds_through_every_door(doors: Doors) -> None:
    """A project that names one of two processors: explain, dry run and run see only that one."""
    doors.processor("first")
    doors.processor("second")
    doors.configure(projects={"PA": {"processors": ["second_v1"]}})
    explained = _explained(doors, "PA")
    planned = _dry_run(doors, "PA")
    assert explained == planned
    assert _proctypes(label for label, _ in planned) == {"second_v1"}
    doors.invoke("run", "PA")
    assert set(doors.assessors("PA")) == {label for label, kind in planned if kind == "create"}


def test_an_import_dax_override_holds_through_every_door(doors: Doors) -> None:
    """An override as import-dax writes it (no scan type matches): no door plans the processor."""
    doors.processor("first")
    doors.processor("second")
    nope = {"inputs.xnat.scans.scan_t1.types": "NOPE"}
    doors.configure(projects={"PA": {"processors": {"first_v1": nope, "second_v1": {}}}})
    explained = _explained(doors, "PA")
    planned = _dry_run(doors, "PA")
    assert explained == planned
    assert _proctypes(label for label, _ in planned) == {"second_v1"}
    for session in doors.sessions("PA"):
        (first,) = [i for i in doors.json("explain", "PA", session) if i["proctype"] == "first_v1"]
        assert not first["can_run"]
    doors.invoke("run", "PA")
    assert _proctypes(doors.assessors("PA")) == {"second_v1"}


def test_a_chain_holds_through_every_door(doors: Doors) -> None:
    """The demo's chain (a session report on per-scan statistics): the downstream task waits for
    its upstream in explain, the dry run and the run alike, then runs after it."""
    demo = Path(__file__).parents[2] / "aspider" / "demo" / "processors"
    doors.configure(processor_paths=[str(demo)])
    explained = _explained(doors, "PA")
    planned = _dry_run(doors, "PA")
    assert explained == planned
    assert _proctypes(label for label, _ in planned) == {"imgstats_v1"}  # the report waits
    doors.invoke("run", "PA", "--wait", "--interval", "0.2")
    done = doors.assessors("PA")
    assert _proctypes(done) == {"imgstats_v1", "sessreport_v1"}
    assert set(done.values()) == {"COMPLETE"}
    assert _explained(doors, "PA") == _dry_run(doors, "PA") == set()


@pytest.fixture
def slow_jobs(doors: Doors) -> Iterator[Path]:
    """Jobs that run a minute; whatever is left running is stopped at the end."""
    doors.processor("slow", SLOW)
    work = doors.root / "work"
    yield work
    for pid_file in work.glob("*/.local-pid"):
        pid = int(pid_file.read_text().strip() or 0)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def _alive(work: Path) -> int:
    """Local jobs of the work root whose process still runs."""
    alive = 0
    for pid_file in work.glob("*/.local-pid"):
        try:
            os.kill(int(pid_file.read_text().strip()), 0)
        except (ProcessLookupError, ValueError):
            continue
        alive += 1
    return alive


def test_two_projects_share_one_max_queued(doors: Doors, slow_jobs: Path) -> None:
    """max_queued 2 over two projects: the dry run plans 2 submissions and the run submits 2."""
    doors.configure(limits={"max_queued": 2})
    planned = _dry_run(doors, *PROJECTS)
    submits = {label for label, kind in planned if kind == "submit"}
    assert len(submits) == 2
    summary = doors.json("run", *PROJECTS)
    submitted = sum(p.get("submitted", 0) for p in summary["by_processor"].values())
    assert submitted == 2
    running = {
        label for p in PROJECTS for label, s in doors.assessors(p).items() if s == "JOB_RUNNING"
    }
    assert running == submits
    assert _alive(slow_jobs) == 2
    # A second run while both still run: nothing more is submitted anywhere.
    again = doors.json("run", *PROJECTS)
    assert sum(p.get("submitted", 0) for p in again["by_processor"].values()) == 0
    assert _alive(slow_jobs) == 2


def test_a_per_processor_limit_holds_across_projects(doors: Doors, slow_jobs: Path) -> None:
    """max_queued_per_processor 1 over two projects: one job of the processor, in all."""
    doors.configure(limits={"max_queued_per_processor": 1})
    planned = _dry_run(doors, *PROJECTS)
    assert len([label for label, kind in planned if kind == "submit"]) == 1
    summary = doors.json("run", *PROJECTS)
    assert summary["by_processor"]["slow_v1"]["submitted"] == 1
    assert _alive(slow_jobs) == 1
