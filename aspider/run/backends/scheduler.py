"""
Jobs on a batch cluster: PBS (PBS Pro, Torque, or Slurm's PBS wrappers) through
`pbs.PbsClient`, or Slurm natively through `pbs.SlurmClient`.

Both clients answer the same few calls (`SchedulerClient`), so one backend serves both: an
observation is one `poll` (ids and recorded intents' names together: at most two qstat on PBS,
one squeue plus sacct for what it forgot on Slurm) and one read of the job directories.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Protocol

from aspider.plan.actions import JobObservation
from aspider.run.backends.base import combine, job_names
from pbs import JobDirState, JobInfo, JobPoll, JobSpec, JobTemplate, SlurmClient, Transport


class SchedulerClient(Protocol):
    """What the backend needs from `pbs.PbsClient` and `pbs.SlurmClient` alike."""

    @property
    def transport(self) -> Transport: ...

    async def submit(self, spec: JobSpec) -> str: ...

    async def poll(self, job_ids: Iterable[str], names: Iterable[str]) -> JobPoll: ...

    async def delete(self, job_ids: Iterable[str]) -> None: ...

    async def read_states(
        self, work_root: str | PurePosixPath, names: Iterable[str]
    ) -> dict[str, JobDirState]: ...

    async def release(self, jobs: Mapping[str, str], work_root: str | PurePosixPath) -> None: ...

    async def forget_held(self, work_root: str | PurePosixPath, names: Iterable[str]) -> None: ...

    async def held_jobs(self, work_root: str | PurePosixPath) -> dict[str, str]: ...


class SchedulerBackend:
    """
    Jobs on a cluster's scheduler, through one of the `pbs` clients.

    `name` says which (`pbs` or `slurm`), for messages; the engine never branches on it.
    """

    def __init__(self, client: SchedulerClient, work_root: str, name: str = "pbs") -> None:
        self.client = client
        self.transport = client.transport
        self.work_root = PurePosixPath(work_root)
        self.name = name

    async def submit(self, spec: JobSpec, template: JobTemplate | None = None) -> str:
        if template is not None and isinstance(self.client, SlurmClient):
            return await self.client.submit(spec, template)
        return await self.client.submit(spec)  # PBS writes its own script (run_notices said)

    async def observe(self, jobs: Mapping[str, str]) -> dict[str, JobObservation]:
        if not jobs:
            return {}
        names = job_names(jobs)
        with_id = {label: jid for label, jid in jobs.items() if jid}
        intents = [label for label, jid in jobs.items() if not jid]
        found = await self.client.poll(with_id.values(), [names[label] for label in intents])
        infos: dict[str, JobInfo] = {label: found.by_id[jid] for label, jid in with_id.items()}
        named = found.by_name
        infos.update({label: named[names[label]] for label in intents if names[label] in named})
        states = await self.client.read_states(self.work_root, names.values())
        return {label: combine(label, infos.get(label), states[names[label]]) for label in jobs}

    async def cancel(self, job_ids: list[str]) -> None:
        await self.client.delete(job_ids)

    async def release(self, jobs: Mapping[str, str]) -> None:
        await self.client.release(jobs, self.work_root)

    async def forget_held(self, names: Iterable[str]) -> None:
        await self.client.forget_held(self.work_root, names)

    async def held_jobs(self) -> dict[str, str]:
        return await self.client.held_jobs(self.work_root)
