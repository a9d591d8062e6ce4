"""
The CLI's reads of XNAT: project snapshots with the configured client (see `aspider.engine`,
whose `XNAT_TRANSPORT` is the one test seam for every command).
"""

from __future__ import annotations

from collections.abc import Sequence

from aspider.engine import xnat_client
from aspider.settings import AspiderSettings
from xnat_client import ProjectSnapshot


async def read_snapshots(
    settings: AspiderSettings, projects: Sequence[str]
) -> list[ProjectSnapshot]:
    """One snapshot per project (a constant number of requests each), in the order given."""
    async with xnat_client(settings) as client:
        return [await client.project_snapshot(project) for project in projects]
