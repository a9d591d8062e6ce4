"""
SlurmClient: sbatch, squeue, sacct and scancel, over any Transport, with the same job contract
and the same guarantees as PbsClient.

A poll is one `squeue --me --states=all` for every job asked about, by id or by name, and at
most two `sacct` (one for ids, one for names) for the jobs squeue has forgotten (it keeps ended
jobs only `MinJobAge`, 300 s by default) and for the memory used by ended ones, which squeue
does not report. Without accounting, sacct is asked once, answers that it is disabled, and is
not asked again.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from pathlib import PurePosixPath

from . import _holds, _names
from ._batches import chunked, unique
from ._client import job_dirs
from ._exceptions import CommandFailed
from ._jobdirs import read_states
from ._models import EndCause, JobDirState, JobInfo, JobPoll, JobState, job_rank
from ._slurm_parse import SACCT_FORMAT, SQUEUE_FORMAT, parse_sacct, parse_squeue
from ._slurm_script import JobTemplate, render_slurm_script, sbatch_argv
from ._spec import JobSpec
from ._submit import submit_argv, submitted_id
from ._transport import Transport

log = logging.getLogger("pbs.slurm")

_ACCOUNTING_OFF = "accounting storage is disabled"
# scancel complaints that mean "nothing left to cancel".
_SCANCEL_HARMLESS = ("already completing or completed", "invalid job id")


def _job_number(job_id: str) -> str:
    """`1234` from `1234` or `1234.cluster` (the PBS-style suffix some callers keep)."""
    return _names.check_job_id(job_id).split(".", 1)[0]


class SlurmClient:
    """
    Submit, follow and cancel Slurm jobs through a transport.

    Args:
        transport: where sbatch, squeue, sacct and scancel run (an open `LocalTransport` or
            `SshTransport`).
        job_template: a DAX job template (its text, or a `JobTemplate`) to render job.sh
            with; None for the built-in `#SBATCH` script.
        accounting: whether to ask sacct about jobs squeue has forgotten; None to find out on
            first use (sacct says when accounting is disabled).
        history: how far back sacct looks for a job by name (a job by id is found at any age).

    Ended jobs carry an `end_cause` from Slurm's state (OUT_OF_MEMORY is `memory`, TIMEOUT
    `walltime`, ...); `pbs.end_cause` weighs it against the job directory.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        job_template: JobTemplate | str | None = None,
        accounting: bool | None = None,
        history: timedelta = timedelta(days=7),
    ) -> None:
        self.transport = transport
        self.job_template = (
            JobTemplate(job_template) if isinstance(job_template, str) else job_template
        )
        self._accounting = accounting
        self._history_days = max(1, int(history.total_seconds() // 86400))

    # -- submission ------------------------------------------------------------------------

    def render(self, spec: JobSpec, template: JobTemplate | None = None) -> str:
        """The job.sh `submit` writes for spec (`template`, else the client's, if any)."""
        return render_slurm_script(spec, template or self.job_template)

    async def submit(self, spec: JobSpec, template: JobTemplate | None = None) -> str:
        """
        Create the job directory, write job.sh and sbatch it; return the job id. One command.

        `template` is this job's own DAX job template (a processor's), over the client's.

        Raises as `PbsClient.submit` does: `CommandFailed` (directory), `SubmitFailed` (a
        refusal; `SchedulerUnavailable` when slurmctld could not be reached), `ConnectionLost`
        (the outcome is unknown: find the job by name before submitting again).
        """
        script = self.render(spec, template).encode()
        sbatch = sbatch_argv(spec)
        argv = submit_argv(str(spec.job_dir), sbatch, hold=spec.hold)
        result = await self.transport.run(argv, stdin=script, idempotent=False)
        return submitted_id(result, sbatch, str(spec.job_dir))

    # -- scheduler state -------------------------------------------------------------------

    async def status(self, job_ids: Iterable[str]) -> dict[str, JobInfo]:
        """The scheduler's view of every id; an id neither squeue nor sacct knows is GONE."""
        return (await self.poll(job_ids, [])).by_id

    async def find_by_name(self, names: Iterable[str]) -> dict[str, JobInfo]:
        """Jobs whose name is one of names (active first, then the newest); absent if none."""
        return (await self.poll([], names)).by_name

    async def poll(self, job_ids: Iterable[str], names: Iterable[str]) -> JobPoll:
        """
        Jobs by id and by name: one squeue, then sacct for what it cannot tell.

        An id squeue does not list is looked up in sacct by id; a name it does not list, by
        name within `history`; an ended job squeue lists is asked of sacct too, for its memory
        used. squeue's exit status is ignored when it printed jobs.
        """
        asked = unique(job_ids)
        numbers = unique(_job_number(job_id) for job_id in asked)
        wanted = unique(_names.check_job_name(name) for name in names)
        if not numbers and not wanted:
            return JobPoll(by_id={}, by_name={})
        listed = {info.job_id: info for info in await self._squeue()}
        named = _by_name(listed.values(), wanted)
        ours = unique([*numbers, *(info.job_id for info in named.values())])
        history = await self._sacct_ids(
            [n for n in ours if n not in listed or not listed[n].state.active]
        )
        missing = [name for name in wanted if name not in named]
        older = _by_name(await self._sacct_names(missing), missing)
        history.update((info.job_id, info) for info in older.values())
        known = {**history, **{n: _merge(info, history.get(n)) for n, info in listed.items()}}
        return JobPoll(
            by_id={
                job_id: known.get(_job_number(job_id)) or JobInfo(job_id, JobState.GONE)
                for job_id in asked
            },
            by_name={name: known[info.job_id] for name, info in {**named, **older}.items()},
        )

    async def _squeue(self) -> list[JobInfo]:
        argv = ["squeue", "--me", "--states=all", "--noheader", f"--Format={SQUEUE_FORMAT}"]
        result = await self.transport.run(argv)
        if result.exit_status != 0 and not result.stdout.strip():
            raise CommandFailed(result.argv, result.exit_status, result.stdout, result.stderr)
        return parse_squeue(result.stdout)

    async def _sacct(self, selection: list[str]) -> list[JobInfo]:
        if self._accounting is False:
            return []
        argv = ["sacct", "--noheader", "--parsable2", f"--format={SACCT_FORMAT}", *selection]
        result = await self.transport.run(argv)
        if result.exit_status != 0:
            if _ACCOUNTING_OFF in result.stderr.lower():
                log.info("Slurm accounting is disabled: jobs squeue forgot are not looked up")
                self._accounting = False
            else:
                # The poll still stands on squeue and the job directories: a hint is missing.
                log.warning("sacct failed (%s): %s", result.exit_status, result.stderr.strip())
            return []
        self._accounting = True
        return parse_sacct(result.stdout)

    async def _sacct_ids(self, numbers: list[str]) -> dict[str, JobInfo]:
        found: dict[str, JobInfo] = {}
        for chunk in chunked(numbers):
            found.update((i.job_id, i) for i in await self._sacct([f"--jobs={','.join(chunk)}"]))
        return found

    async def _sacct_names(self, names: list[str]) -> list[JobInfo]:
        found: list[JobInfo] = []
        since = f"--starttime=now-{self._history_days}days"
        for chunk in chunked(names):
            found += await self._sacct([since, f"--name={','.join(chunk)}"])
        return found

    async def delete(self, job_ids: Iterable[str]) -> None:
        """scancel the jobs; ids already ended or unknown are not an error."""
        numbers = unique(_job_number(job_id) for job_id in job_ids)
        for chunk in chunked(numbers):
            result = await self.transport.run(["scancel", *chunk])
            complaints = [
                line
                for line in (result.stdout + "\n" + result.stderr).lower().splitlines()
                if line.strip() and not any(text in line for text in _SCANCEL_HARMLESS)
            ]
            if result.exit_status != 0 and complaints:
                raise CommandFailed(result.argv, result.exit_status, result.stdout, result.stderr)

    # -- held jobs ----------------------------------------------------------------------------

    async def release(self, jobs: Mapping[str, str], work_root: str | PurePosixPath) -> None:
        """
        `scontrol release` the held jobs (job name -> id), then forget their markers: one command.

        Raises:
            CommandFailed: not released (the markers stay, and a later look tries again).
        """
        ids = [_names.check_job_id(job_id) for job_id in unique(jobs.values())]
        if ids:
            dirs = job_dirs(work_root, jobs).values()
            await _holds.release(
                self.transport, ["scontrol", "release", ",".join(_job_number(i) for i in ids)], dirs
            )

    async def forget_held(self, work_root: str | PurePosixPath, names: Iterable[str]) -> None:
        """Forget the markers of jobs no longer held (released, ended, or gone)."""
        await _holds.forget(self.transport, job_dirs(work_root, names).values())

    async def held_jobs(self, work_root: str | PurePosixPath) -> dict[str, str]:
        """job name -> id of every job submitted held and not released, from the markers."""
        return await _holds.held_jobs(self.transport, work_root)

    # -- job directories -------------------------------------------------------------------

    async def read_states(
        self, work_root: str | PurePosixPath, names: Iterable[str]
    ) -> dict[str, JobDirState]:
        """`<work_root>/<name>/status/` for every name, in one command per chunk."""
        return await read_states(self.transport, work_root, names)


def _by_name(jobs: Iterable[JobInfo], names: list[str]) -> dict[str, JobInfo]:
    """The best job for each name: an active one first, then the newest."""
    wanted = set(names)
    best: dict[str, JobInfo] = {}
    for info in jobs:
        if info.name in wanted:
            current = best.get(info.name)
            if current is None or job_rank(info) > job_rank(current):
                best[info.name] = info
    return best


def _merge(listed: JobInfo, history: JobInfo | None) -> JobInfo:
    """
    squeue's view (current), with what only sacct reports: the memory used, and a SIGKILL
    that sacct's peak memory shows to be a memory kill.
    """
    if history is None:
        return listed
    cause = listed.end_cause
    if cause is EndCause.KILLED and history.end_cause is EndCause.MEMORY:
        cause = EndCause.MEMORY
    return dataclasses.replace(listed, memory_used_bytes=history.memory_used_bytes, end_cause=cause)
