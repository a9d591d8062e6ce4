"""
`status`, `report` (its JSON and its page) and the service's `/api/v1/status` and page render one
status model: asked of the same sandbox state, their counts agree, and a failed task of a
processor the project does not configure shows in each, marked "not configured here".
"""

from __future__ import annotations

import json
import re
from functools import partial
from typing import Any

import anyio
import httpx

from aspider.processors import load_processors
from aspider.serve import serve
from aspider.settings import load_settings
from tests.doors.conftest import Doors
from tests.serve.conftest import until

FAILS = "'echo no brain found >&2; exit 3'"
LEGACY = "legacy_v1"  # a processor found in XNAT, configured nowhere here
LEGACY_NOTE = "legacy pipeline: segmentation failed"


def _failing_project(doors: Doors) -> str:
    """PA: `first` runs to COMPLETE, `broken` fails, and one legacy_v1 task failed long ago."""
    doors.processor("first")
    doors.processor("broken", FAILS)
    doors.configure(projects={"PA": {}})
    doors.invoke("run", "PA", "--wait", "--interval", "0.1")
    session = min(doors.server.store.sessions_of("PA"), key=lambda s: s.label)
    label = f"PA-x-{session.label}-x-{LEGACY}-x-0badc0de"
    doors.server.store.add_assessor(
        session, label, proctype=LEGACY, procstatus="JOB_FAILED", note=LEGACY_NOTE
    )
    return label


async def _served(doors: Doors) -> tuple[dict[str, Any], str]:
    """`aspider serve` on the same settings, changing nothing: its /api/v1/status and page."""
    settings = load_settings(
        doors.settings,
        overrides={
            "serve": {
                "host": "127.0.0.1",
                "port": 0,
                "sweep_on_start": False,  # no sweep: the service reads what the CLI read
                "poll_interval": 3600.0,
                "follow_interval": 3600.0,
                "full_sweep_at": "",
            }
        },
    )
    procs = load_processors([doors.root / "procs"])
    stop = anyio.Event()
    urls: list[str] = []
    run = partial(serve, settings, procs, ["PA"], wiring=doors.wiring, stop=stop, signals=False)
    async with anyio.create_task_group() as tg:
        tg.start_soon(partial(run, on_ready=urls.append))
        await until(lambda: bool(urls), limit=10)
        async with httpx.AsyncClient(base_url=urls[0]) as http:
            found = await _once_read(http)
            page = (await http.get("/")).text
        stop.set()
    (project,) = found["projects"]
    return project, page


async def _once_read(http: httpx.AsyncClient) -> dict[str, Any]:
    """/api/v1/status once the worker has read the project (at its start), looking every 50 ms."""
    with anyio.fail_after(30):  # a hang guard
        while True:
            found: dict[str, Any] = (await http.get("/api/v1/status")).json()
            if found["projects"]:
                return found
            await anyio.sleep(0.05)


def _report_json(doors: Doors) -> list[dict[str, Any]]:
    """`aspider report PA` (without --html it prints the JSON): its projects."""
    projects: list[dict[str, Any]] = json.loads(doors.invoke("report", "PA").stdout)["projects"]
    return projects


def _marked_rows(page: str, table: str) -> list[str]:
    """The rows of one of the page's tables marked as a processor not configured here."""
    body = page.split(f'<table class="{table}">', 1)[1].split("</table>", 1)[0]
    return [
        row for row in re.findall(r"<tr[^>]*>.*?</tr>", body, re.DOTALL) if "not-configured" in row
    ]


def test_every_door_counts_the_same_and_marks_the_unconfigured_failure(doors: Doors) -> None:
    """status --json, report --json, the report's page, /api/v1/status and the served page
    agree on the counts and all show the legacy_v1 failure, marked not configured here."""
    legacy = _failing_project(doors)
    status = doors.json("status", "PA")
    (report,) = _report_json(doors)
    html = doors.root / "status.html"
    doors.invoke("report", "PA", "--html", str(html))
    served, served_page = anyio.run(_served, doors)
    text = doors.invoke("status", "PA").stdout

    counts = status["counts"]
    assert counts == report["matrix"] == served["matrix"]
    assert counts[LEGACY] == {"JOB_FAILED": 1}
    assert counts["broken_v1"] == {"JOB_FAILED": 3}
    assert counts["first_v1"] == {"COMPLETE": 3}
    assert status["not_configured"] == report["not_configured"] == served["not_configured"]
    assert status["not_configured"] == [LEGACY]

    def attention(data: dict[str, Any]) -> list[tuple[str, str, bool]]:
        return [(t["label"], t["procstatus"], t["configured"]) for t in data["attention"]]

    assert attention(status) == attention(report) == attention(served)
    assert (legacy, "JOB_FAILED", False) in attention(status)
    assert sum(1 for t in attention(status) if t[2]) == 3  # broken_v1's three failures

    for page in (html.read_text(), served_page):
        (row,) = _marked_rows(page, "matrix")
        assert f"{LEGACY} <span" in row
        assert "(not configured here)" in row
        (failed,) = _marked_rows(page, "attention")
        assert legacy in failed
        assert LEGACY_NOTE in failed
        assert "Nothing failing or blocked" not in page
    assert f"{LEGACY} *" in text
    assert f"* not configured here: {LEGACY}" in text


def test_the_report_says_what_each_transition_came_from(doors: Doors) -> None:
    """The report's transitions come from XNAT's workflow history, each with its status
    before it: a failure from JOB_RUNNING, each task's creation once, none unknown."""
    _failing_project(doors)
    (report,) = _report_json(doors)
    assert report["transitions_from"] == "XNAT's workflow history"
    steps = report["transitions"]
    assert all(t["step"] for t in steps)
    assert all(t["before"] is not None for t in steps)
    moves = {(t["proctype"], t["before"], t["after"]) for t in steps}
    assert ("broken_v1", "JOB_RUNNING", "JOB_FAILED") in moves
    assert ("first_v1", "JOB_RUNNING", "COMPLETE") in moves
    failed = next(t for t in steps if t["after"] == "JOB_FAILED")
    assert failed["step"].startswith("failed: job ")
    ours = {label for label in doors.assessors("PA") if "-x-legacy_v1-x-" not in label}
    created = [t["label"] for t in steps if t["before"] == ""]
    assert sorted(created) == sorted(ours)  # each task's creation, once
    html = doors.root / "status.html"
    doors.invoke("report", "PA", "--html", str(html))
    table = html.read_text().split('<table class="transitions">', 1)[1].split("</table>", 1)[0]
    before = re.findall(r'<td class="from">([^<]*)</td>', table)
    assert len(before) == len(steps)
    assert "?" not in before
    assert before.count("(new)") == len(ours)
    assert "JOB_RUNNING" in before
