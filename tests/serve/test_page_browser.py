"""The status page in a real browser (Debian's headless chromium driven by Playwright)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.serve.conftest import (
    PROJECT,
    archive_session,
    running_service,
    runs_processor,
    service_settings,
    status_json,
)
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
