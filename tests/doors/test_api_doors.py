"""
The Python API answers as the command line does: for the doors' scenarios, `Spider.tasks`,
`Spider.plan` and `Spider.status` equal `explain --json`, `run --dry-run --json` and
`status --json`.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import aspider
from aspider.demo import DEMO_PROCESSORS
from aspider.settings import load_settings
from tests.doors.conftest import PROJECTS, Doors
from tests.doors.test_planning_doors import _dry_run, _explained


def _spider(doors: Doors) -> aspider.Spider:
    return aspider.Spider(load_settings(doors.settings), wiring=doors.wiring)


def _api_tasks(doors: Doors, project: str) -> set[tuple[str, str]]:
    tasks = anyio.run(_spider(doors).tasks, project)
    return {(t.label, kind) for t in tasks for kind in t.next}


def _api_plan(doors: Doors, *projects: str) -> set[tuple[str, str]]:
    plan = anyio.run(_spider(doors).plan, list(projects))
    return {(a.label, a.kind) for a in plan.actions}


SCENARIOS: dict[str, dict[str, Any]] = {
    "a project's processor list": {"projects": {"PA": {"processors": ["second_v1"]}}},
    "an import-dax override": {
        "projects": {
            "PA": {
                "processors": {
                    "first_v1": {"inputs.xnat.scans.scan_t1.types": "NOPE"},
                    "second_v1": {},
                }
            }
        }
    },
    "two projects under one max_queued": {"limits": {"max_queued": 2}},
    "one per processor across projects": {"limits": {"max_queued_per_processor": 1}},
    "a chain (downstream waits on upstream)": {"processor_paths": [str(DEMO_PROCESSORS)]},
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_api_plans_as_explain_and_the_dry_run_do(doors: Doors, scenario: str) -> None:
    """tasks() == explain --json per session; plan() == run --dry-run --json, both projects."""
    doors.processor("first")
    doors.processor("second")
    doors.configure(**SCENARIOS[scenario])
    assert _api_tasks(doors, "PA") == _explained(doors, "PA")
    assert _api_plan(doors, *PROJECTS) == _dry_run(doors, *PROJECTS)


def test_the_api_status_counts_as_status_json(doors: Doors) -> None:
    """After a run, status() counts what `status --json` counts."""
    doors.processor("first")
    doors.configure()
    doors.invoke("run", "PA")
    cli = doors.json("status", "PA", "--xnat-only")
    api = anyio.run(_spider(doors).status, "PA")
    assert api.counts == cli["counts"]
    assert api.counts  # the run made something to count
