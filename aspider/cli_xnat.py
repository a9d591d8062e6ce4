"""
The CLI's only door to XNAT: read project snapshots with the configured client.

Kept in one place so a change in how the client is built touches one function. `TRANSPORT` is
a seam: None in production; tests set an `httpx.ASGITransport` over the XNAT-compatible server.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from aspider._exceptions import ConfigError
from aspider.settings import AspiderSettings
from xnat_client import Credentials, ProjectSnapshot, XnatClient

TRANSPORT: httpx.AsyncBaseTransport | None = None


async def read_snapshots(
    settings: AspiderSettings, projects: Sequence[str]
) -> list[ProjectSnapshot]:
    """One snapshot per project (a constant number of requests each), in the order given."""
    xnat = settings.xnat
    if not xnat.url:
        raise ConfigError("xnat.url is not set; set ASPIDER_XNAT__URL or xnat.url in the settings")
    password = xnat.resolved_password()
    credentials = None
    if xnat.user and password is not None:
        credentials = Credentials(user=xnat.user, secret=password)
    client = XnatClient(
        xnat.url,
        credentials=credentials,
        netrc=xnat.netrc,
        transport=TRANSPORT,
        concurrency=settings.limits.http_concurrency,
    )
    async with client:
        return [await client.project_snapshot(project) for project in projects]
