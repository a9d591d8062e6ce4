"""
Jobs wherever a `pbs` client runs them: PBS (PBS Pro, Torque, or Slurm's PBS wrappers) through
`pbs.PbsClient`, Slurm natively through `pbs.SlurmClient`, or this machine's processes through
`pbs.LocalClient`.

The three keep one contract (`pbs.BatchClient`), so one backend serves them all: an observation
is one `poll` (ids and recorded intents' names together: at most two qstat on PBS, one squeue
plus sacct for what it forgot on Slurm, one probe locally) and one read of the job directories.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

import anyio

from aspider.plan.actions import JobObservation
from aspider.run.backends.base import ArrayPolicy, combine, job_names
from pbs import ArraySpec, BatchClient, JobDirState, JobInfo, JobSpec, JobState, JobTemplate

#: Seconds between a poll that found jobs ending and the one that asks again what they used,
#: and how many times at most.
SCHEDULER_CLOSING = 2.0
CLOSING_TRIES = 3


def _unaccounted(info: JobInfo, lags: bool, memory: bool) -> bool:
    """
    Still running for the scheduler; or, where its accounts are written after a job ends
    (`usage_lags`: Slurm's slurmdbd), ended with nothing yet of what it used: no peak memory
    where the scheduler accounts memory (`memory`; its job row comes before its steps', which
    hold the memory), else nothing at all.
    """
    if info.state is JobState.GONE:
        return False  # forgotten: nothing more will come
    if info.state.active:
        return True
    if memory:
        return lags and info.memory_used_bytes is None
    return lags and info.memory_used_bytes is None and info.cpu_time is None


class SchedulerBackend:
    """
    Jobs through one of the `pbs` clients.

    `name` says which (`pbs`, `slurm` or `local`), for messages; the engine never branches on it.
    `arrays` groups submissions into job arrays where the client has them (None, or a client
    without arrays, such as the local one: every job on its own).
    """

    def __init__(
        self,
        client: BatchClient,
        work_root: str,
        name: str = "pbs",
        *,
        arrays: ArrayPolicy | None = None,
    ) -> None:
        self.client = client
        self.transport = client.transport
        self.work_root = PurePosixPath(work_root)
        self.name = name
        self.arrays = arrays if client.supports_arrays else None
        # Whether the scheduler accounts jobs' peak memory: None until a closing poll tells
        # (a site may account CPU time and no memory: then no poll waits for it again)
        self.memory_accounted: bool | None = None

    async def submit(self, spec: JobSpec, template: JobTemplate | None = None) -> str:
        return await self.client.submit(spec, template)  # PBS and local ignore a template

    async def submit_array(
        self, array: ArraySpec, template: JobTemplate | None = None
    ) -> list[str]:
        return await self.client.submit_array(array, template)

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
        await self._closing(infos, {label: states[names[label]] for label in jobs})
        observed = {}
        for label in jobs:
            state = states[names[label]]
            observed[label] = combine(label, self._ended(infos.get(label), state), state)
        return observed

    async def _closing(self, infos: dict[str, JobInfo], states: Mapping[str, JobDirState]) -> None:
        """
        Jobs whose directory shows their end while the scheduler has not yet accounted what
        they used (it had them running a moment before, or has not recorded their use yet):
        asked again, a little later, at most `CLOSING_TRIES` times, in one batch, for the use
        it accounts only once it closes a job. The task is finalised on this poll, and its
        record keeps what it used.
        """
        memory = self.memory_accounted is not False
        racing: dict[str, str] = {}
        for _ in range(CLOSING_TRIES):
            racing = {
                label: info.job_id
                for label, info in infos.items()
                if states[label].ended and _unaccounted(info, self.client.usage_lags, memory)
            }
            if not racing or not self.client.reports_usage():
                break
            await anyio.sleep(SCHEDULER_CLOSING)
            again = await self.client.poll(racing.values(), [])
            infos.update({label: again.by_id[job_id] for label, job_id in racing.items()})
        ended = [info for label, info in infos.items() if states[label].ended]
        if any(info.memory_used_bytes is not None for info in ended):
            self.memory_accounted = True
        elif racing and memory and self.memory_accounted is None:
            self.memory_accounted = False  # asked three times, and never a memory: none kept

    def _ended(self, info: JobInfo | None, state: JobDirState) -> JobInfo | None:
        """A vanished job whose directory shows its end has completed, where jobs vanish so."""
        if info is None or info.state is not JobState.GONE or not state.ended:
            return info
        if not self.client.ended_jobs_vanish:
            return info
        return JobInfo(job_id=info.job_id, state=JobState.COMPLETED)

    async def cancel(self, job_ids: list[str]) -> None:
        await self.client.delete(job_ids)

    async def release(self, jobs: Mapping[str, str]) -> None:
        await self.client.release(jobs, self.work_root)

    async def release_arrays(self, jobs: Mapping[str, str]) -> None:
        await self.client.release_arrays(jobs, self.work_root)

    async def forget_held(self, names: Iterable[str]) -> None:
        await self.client.forget_held(self.work_root, names)

    async def held_jobs(self) -> dict[str, str]:
        return await self.client.held_jobs(self.work_root)
