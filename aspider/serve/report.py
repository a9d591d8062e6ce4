"""`aspider report PROJ --html FILE`: the status page from one snapshot per project, for cron."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from aspider.plan import find_stale, processors_usage
from aspider.processors import Processor
from aspider.run import NETWORK, Wiring, for_project
from aspider.serve.history import read_steps
from aspider.serve.page import Page, PageInfo, render_page
from aspider.serve.status import ProjectStatus, project_status
from aspider.settings import AspiderSettings


async def read_statuses(
    settings: AspiderSettings,
    projects: Sequence[str],
    processors: Sequence[Processor],
    *,
    wiring: Wiring = NETWORK,
) -> list[ProjectStatus]:
    """
    Each project's status from a fresh snapshot (3 requests a project; no job poll), its
    transitions from the workflow history of the tasks changed last (at most
    `history.STEPS_READ` requests a project; none with `xnat.history: false`).
    """
    link = settings.serve.xnat_link or settings.xnat.url
    found = []
    async with wiring.xnat(settings) as xnat:
        for project in projects:
            snapshot = await xnat.project_snapshot(project, subject_assessors=True)
            steps = await read_steps(xnat, snapshot) if settings.xnat.history else None
            ours = for_project(settings, project, processors)
            found.append(
                project_status(
                    snapshot,
                    [p.proctype for p in ours],
                    link_base=link,
                    today=date.today(),
                    taken_at=_now(),
                    steps=steps,
                    usage=processors_usage([snapshot], ours, settings.retry, settings.tune),
                    staleness=find_stale([snapshot], ours),
                )
            )
    return found


def report_html(statuses: Sequence[ProjectStatus]) -> str:
    """The same page `aspider serve` shows at `/`, without the service's live parts."""
    return render_page(Page(PageInfo("aspider report", _now()), list(statuses)))


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
