"""
`aspider tune`'s numbers: each processor's jobs in the projects named, read from XNAT (one
snapshot per project: the attempt records in the assessors' notes), summed up by the pure
`aspider.plan.tuning`.

It reads what every host reads, so two hosts, or the service's page and the command line,
give the same answer; it keeps no database of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from aspider.plan.tuning import ProcessorUsage, processors_usage
from aspider.processors import Processor
from aspider.run.wiring import NETWORK, Wiring, read_snapshots
from aspider.settings import AspiderSettings


async def read_usage(
    settings: AspiderSettings,
    projects: Sequence[str],
    procs: Sequence[Processor],
    *,
    since_days: int | None = None,
    wiring: Wiring = NETWORK,
    today: date | None = None,
) -> list[ProcessorUsage]:
    """One `ProcessorUsage` per processor, over its jobs in every project named."""
    async with wiring.open_xnat(settings, projects) as xnat:
        snapshots = await read_snapshots(xnat, projects, subject_assessors=True)
    return processors_usage(
        snapshots, procs, settings.retry, settings.tune, since_days=since_days, today=today
    )
