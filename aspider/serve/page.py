"""
The status page: server-rendered HTML from `ProjectStatus` through one Jinja2 template.

No build step and no external asset: the CSS is inline, the charts are inline SVG, and the page
refreshes itself with a meta tag. Autoescaping is on, so a label, reason or message from XNAT is
text on the page, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from jinja2 import Environment, PackageLoader, StrictUndefined

from aspider.processors import format_duration
from aspider.serve.charts import Chart, day_bars, queue_lines
from aspider.serve.status import NOT_CONFIGURED, ProjectStatus

_ENV = Environment(
    loader=PackageLoader("aspider.serve", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["duration"] = format_duration  # seconds as [D-]HH:MM:SS, as requests are written


@dataclass(frozen=True)
class PageInfo:
    """The page's heading line: what made it, when, and a few facts about the service."""

    title: str
    now: str
    facts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Shown:
    status: ProjectStatus
    completed: Chart
    queue: Chart
    # The matrix's "stale" and "provenance unknown" columns: only when a result is either, so
    # a project with nothing to say about staleness keeps the table it had.
    staleness: bool


@dataclass(frozen=True)
class Page:
    info: PageInfo
    projects: Sequence[ProjectStatus] = field(default_factory=list)
    refresh: int = 0  # seconds between reloads in a browser; 0: never


def render_page(page: Page) -> str:
    """The whole page as one HTML string."""
    shown = [
        _Shown(p, day_bars(p.completed_per_day), queue_lines(p.queue), _has_staleness(p))
        for p in page.projects
    ]
    template = _ENV.get_template("status.html.j2")
    return template.render(
        service=page.info, projects=shown, refresh=page.refresh, not_configured=NOT_CONFIGURED
    )


def _has_staleness(status: ProjectStatus) -> bool:
    """Whether a result of the project is stale, or has no record to tell it by."""
    return any(status.stale_counts.values()) or any(status.provenance_unknown.values())
