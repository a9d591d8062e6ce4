"""
`aspider serve`: new sessions processed within seconds, a live status page, metrics.

A layer beside `aspider.demo`, between the command line and the engine: it runs the engine
(`aspider.run.sweep.sweep_project`, one project's sweeps at a time through a `ProjectWorker`)
on events (POSTs from XNAT), on changes it sees in each project's `last_modified` listing, on
jobs that ended, and on a nightly schedule; and it shows what XNAT holds as a page, JSON and
Prometheus metrics. It imports `aspider.run` and below, never `aspider.cli` or `aspider.demo`.

Modules: `watch` (which sessions are due: hints, changes, settling; pure), `worker` (one
project's sweeps), `service` (the workers, the job poll, the schedule), `web` (the HTTP routes),
`server` (uvicorn, signals), `auth` and `labels` (what a request may carry), `status`, `history`,
`charts` and `page` (what the page shows), `report` (`aspider report`), `metrics`, `schedule`,
`service_log` (the records its operators read: events, sweeps, deferred and resumed work).
"""

from aspider.serve.page import Page, PageInfo, render_page
from aspider.serve.report import read_statuses, report_html
from aspider.serve.server import serve
from aspider.serve.status import ProjectStatus, project_status

__all__ = [
    "Page",
    "PageInfo",
    "ProjectStatus",
    "project_status",
    "read_statuses",
    "render_page",
    "report_html",
    "serve",
]
