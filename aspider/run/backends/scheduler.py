"""
Jobs on a PBS (or Torque, or PBS-wrapped Slurm) cluster, through `pbs.PbsClient`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

from aspider.plan.actions import JobObservation
from aspider.run.backends.base import combine, job_names
from pbs import JobInfo, JobSpec, PbsClient


class PbsBackend:
    """Jobs on a PBS (or Torque, or PBS-wrapped Slurm) cluster, through `pbs.PbsClient`."""

    name = "pbs"

    def __init__(self, client: PbsClient, work_root: str) -> None:
        self.client = client
        self.transport = client.transport
        self.work_root = PurePosixPath(work_root)

    async def submit(self, spec: JobSpec) -> str:
        return await self.client.submit(spec)

    async def observe(self, jobs: Mapping[str, str]) -> dict[str, JobObservation]:
        if not jobs:
            return {}
        names = job_names(jobs)
        with_id = {label: jid for label, jid in jobs.items() if jid}
        intents = [label for label, jid in jobs.items() if not jid]
        infos: dict[str, JobInfo] = {}
        if with_id:
            by_id = await self.client.status(with_id.values())
            infos.update({label: by_id[jid] for label, jid in with_id.items()})
        if intents:
            found = await self.client.find_by_name(names[label] for label in intents)
            infos.update({label: found[names[label]] for label in intents if names[label] in found})
        states = await self.client.read_states(self.work_root, names.values())
        return {label: combine(label, infos.get(label), states[names[label]]) for label in jobs}

    async def cancel(self, job_ids: list[str]) -> None:
        await self.client.delete(job_ids)
