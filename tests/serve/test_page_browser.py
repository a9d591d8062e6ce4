"""The status page in a real browser (Debian's headless chromium driven by Playwright)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from aspider.plan import PlanLimits, Submit, Task, made_from, match_snapshots_sync, plan
from aspider.plan.retry import first_attempt, with_head
from aspider.processors import Processor
from tests.serve.conftest import (
    NIFTI,
    PROJECT,
    archive_session,
    running_service,
    runs_processor,
    service_settings,
    status_json,
)
from xnat_client import AssessorFields, Credentials, XnatClient
from xnat_client.sandbox import XnatServer

pytestmark = pytest.mark.anyio

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium() -> Path:
    """Debian's chromium (tests/browser/up installs it); missing is a failure under CI=true."""
    if not CHROMIUM.exists():
        reason = "no /usr/bin/chromium: run `sudo tests/browser/up`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return CHROMIUM


async def _settled(url: str) -> dict[str, Any]:
    """The service's view once three tasks completed and one failed."""
    found: dict[str, Any] = {}

    async def check() -> bool:
        data = await status_json(url)
        if data["projects"]:
            found.update(data["projects"][0])
        return found.get("matrix", {}).get("runs_v1") == {"COMPLETE": 3, "JOB_FAILED": 1}

    await until_async(check)
    return found


async def until_async(check: Any, limit: float = 90.0) -> None:
    with anyio.fail_after(limit):
        while True:
            if await check():
                return
            await anyio.sleep(0.1)


async def _read_page(page: Any) -> dict[str, Any]:
    """What a person sees in the project's section: matrix cells, the failure, the bars."""
    section = page.locator(f"#project-{PROJECT}")
    row = section.locator("table.matrix tbody tr", has_text="runs_v1")
    bars = section.locator("svg.chart-completed rect.bar")
    count = await bars.count()
    return {
        "complete": await row.locator("td.COMPLETE").inner_text(),
        "failed": await row.locator("td.JOB_FAILED").inner_text(),
        "reason": await section.locator("table.attention td.reason").inner_text(),
        "link": await section.locator("table.attention a").get_attribute("href"),
        "chart_visible": await section.locator("svg.chart-completed").is_visible(),
        "titles": [await bars.nth(n).locator("title").text_content() for n in range(count)],
        "heights": [float(await bars.nth(n).get_attribute("height") or 0) for n in range(count)],
    }


async def test_the_page_shows_the_matrix_a_failure_reason_and_the_chart(
    server: XnatServer, xnat_url: str, tmp_path: Path, chromium: Path
) -> None:
    """Matrix counts, the failed task's reason with its XNAT link, and the bars of today."""
    from playwright.async_api import async_playwright

    for n in range(4):
        await archive_session(xnat_url, f"S{n}", f"E0{n}")
    proc = runs_processor(tmp_path / "procs", tmp_path / "runs.log", fail_on="E03")
    settings = service_settings(xnat_url, tmp_path / "work", follow_interval=0.3)
    shot = tmp_path / "status.png"
    async with running_service(settings, [proc]) as url:
        status = await _settled(url)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(chromium), args=FLAGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 1000})
            await page.goto(url + "/")
            seen = await _read_page(page)
            await page.screenshot(path=str(shot), full_page=True)
            await browser.close()
    (failure,) = status["attention"]
    assert (seen["complete"], seen["failed"]) == ("3", "1")
    assert seen["reason"] == failure["reason"]
    assert "3" in seen["reason"]  # the exit code is in the reason
    assert seen["link"] == failure["link"]
    assert seen["link"].startswith(f"{xnat_url}/data/experiments/")
    assert seen["chart_visible"]
    assert len(seen["titles"]) == 14
    assert seen["titles"][-1].endswith(": 3")
    assert seen["heights"][-1] > 0
    assert shot.stat().st_size > 10_000


async def _planned(xnat: XnatClient, proc: Processor) -> dict[str, Task]:
    """session label -> the task the planner submits for `proc` there, from a fresh snapshot."""
    snap = await xnat.project_snapshot(PROJECT)
    matches = match_snapshots_sync([snap], [proc])
    actions = plan([snap], matches, (), PlanLimits(), None, [proc]).actions()
    return {a.task.session_label: a.task for a in actions if isinstance(a, Submit)}


async def _complete(xnat: XnatClient, task: Task, job_id: str, *, recorded: bool) -> None:
    """The task's assessor as aspider leaves it COMPLETE; without its made-from record when
    not `recorded` (as DAX, or an aspider before records, leaves it)."""
    made = made_from(task)
    assert made is not None
    head = first_attempt(task.requirements.memory_mb, task.requirements.walltime_seconds)
    fields = AssessorFields(
        proctype=task.proctype,
        procversion=task.procversion,
        procstatus="COMPLETE",
        qcstatus="Needs QA",
        inputs=task.inputs_json,
        jobid=job_id,
        note=with_head(head.ended(job_id, "success"), made.text() if recorded else ""),
    )
    await xnat.put_assessor(task.project, task.subject_id, task.session_id, task.label, fields)


async def _stale_project(xnat_url: str, proc: Processor) -> dict[str, str]:
    """
    Two sessions whose runs_v1 results are COMPLETE: E00's with the record of what made it,
    whose T1 file is then uploaded again with other content (stale); E01's with no record
    (provenance unknown). Returns session label -> its result's label.
    """
    sids = {
        label: await archive_session(xnat_url, f"S{n}", label)
        for n, label in [(0, "E00"), (1, "E01")]
    }
    credentials = Credentials.password("admin", "admin")
    async with XnatClient(xnat_url, credentials=credentials) as xnat:
        tasks = await _planned(xnat, proc)
        await _complete(xnat, tasks["E00"], "4711", recorded=True)
        await _complete(xnat, tasks["E01"], "4712", recorded=False)
    async with httpx.AsyncClient(base_url=xnat_url, auth=("admin", "admin")) as http:
        again = f"/data/experiments/{sids['E00']}/scans/1/resources/NIFTI/files/t1.nii.gz"
        params = {"inbody": "true", "overwrite": "true"}
        (await http.put(again, params=params, content=NIFTI + b"other")).raise_for_status()
    return {label: t.label for label, t in tasks.items()}


async def _stale_seen(url: str) -> dict[str, Any]:
    """The service's view of the project once it has judged its results."""
    found: dict[str, Any] = {}

    async def check() -> bool:
        data = await status_json(url)
        if data["projects"]:
            found.update(data["projects"][0])
        return bool(found.get("stale"))

    await until_async(check)
    return found


async def _read_stale(page: Any) -> dict[str, Any]:
    """What a person sees of staleness: the matrix's two counts and the stale results' rows."""
    section = page.locator(f"#project-{PROJECT}")
    row = section.locator("table.matrix tbody tr", has_text="runs_v1")
    rows = section.locator("table.stale-results tbody tr")
    cells = [
        [await c.inner_text() for c in await rows.nth(n).locator("td").all()]
        for n in range(await rows.count())
    ]
    return {
        "stale": await row.locator("td.stale").inner_text(),
        "unknown": await row.locator("td.provenance-unknown").inner_text(),
        "legend": await section.locator("p.stale-legend").is_visible(),
        "rows": cells,
        "links": await section.locator("table.stale-results a").evaluate_all(
            "links => links.map(a => a.href)"
        ),
    }


async def test_the_page_and_its_json_count_a_stale_result_and_show_why(
    server: XnatServer, xnat_url: str, tmp_path: Path, chromium: Path
) -> None:
    """A result whose input changed: the page counts it stale (and the unrecorded one as
    provenance unknown) per processor, lists it with its reason and XNAT link, as the JSON says."""
    from playwright.async_api import async_playwright

    proc = runs_processor(tmp_path / "procs", tmp_path / "runs.log")
    labels = await _stale_project(xnat_url, proc)
    settings = service_settings(xnat_url, tmp_path / "work")
    async with running_service(settings, [proc]) as url:
        status = await _stale_seen(url)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(chromium), args=FLAGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 1000})
            await page.goto(url + "/")
            seen = await _read_stale(page)
            await browser.close()
    assert status["stale_counts"] == {"runs_v1": 1}
    assert status["provenance_unknown"] == {"runs_v1": 1}
    (line,) = status["stale"]
    assert (line["label"], line["session"], line["kinds"]) == (labels["E00"], "E00", ["inputs"])
    assert "NIFTI changed" in line["reason"]
    assert (seen["stale"], seen["unknown"]) == ("1", "1")
    assert seen["legend"]
    assert seen["rows"] == [["runs_v1", "E00", line["reason"], labels["E00"]]]
    assert seen["links"] == [line["link"]]
    assert line["link"].startswith(f"{xnat_url}/data/experiments/")
