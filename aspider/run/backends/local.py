"""
Jobs as processes of the machine aspider runs on (`pbs.LocalClient`), without aspider's secrets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from aspider.run.backends.scheduler import SchedulerBackend
from aspider.settings import ENV_PREFIX
from pbs import LocalClient, Transport


def job_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The engine's environment without its own settings: `ASPIDER_XNAT__PASSWORD` and kin."""
    return {k: v for k, v in environ.items() if not k.startswith(ENV_PREFIX)}


class LocalBackend(SchedulerBackend):
    """
    The embedded default for small labs and the demo: no scheduler, so the number of jobs
    running at once is bounded by the planner's queue limit. A job gets the engine's
    environment without its settings (`ASPIDER_*`, where the XNAT password may be): a job never
    holds XNAT credentials.
    """

    def __init__(self, transport: Transport, work_root: str) -> None:
        client = LocalClient(transport, work_root, job_environment(os.environ))
        super().__init__(client, work_root, "local")
