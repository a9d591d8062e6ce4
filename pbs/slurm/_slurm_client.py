"""
SlurmClient: sbatch, squeue, sacct, scancel and `scontrol release` on the `BatchClient` contract.

A poll is one `squeue --me --states=all` for every job asked about, by id or by name, and at
most two `sacct` (one for ids, one for names) for the jobs squeue has forgotten (it keeps ended
jobs only `MinJobAge`, 300 s by default) and for the memory used by ended ones, which squeue
does not report. Without accounting, sacct is asked once, answers that it is disabled, and is
not asked again.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta

from .. import _names
from .._arrays import ArraySpec
from .._batch_client import BatchClient, best_by_name
from .._batches import chunked, unique
from .._exceptions import CommandFailed
from .._models import EndCause, JobInfo, JobPoll, JobState
from .._spec import JobSpec
from .._transport import Transport
from ._sbatch_script import JobTemplate, render_slurm_script, sbatch_argv, sbatch_array_argv
from ._squeue_sacct import SACCT_FORMAT, SQUEUE_FORMAT, parse_sacct, parse_squeue

log = logging.getLogger("pbs.slurm")

_ACCOUNTING_OFF = "accounting storage is disabled"


def _job_number(job_id: str) -> str:
    """
    `1234` from `1234` or `1234.cluster` (the PBS-style suffix some callers keep); an array
    element stays `1234_7`.
    """
    return _names.check_job_id(job_id).split(".", 1)[0]


class SlurmClient(BatchClient):
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
        submit_rate: scheduler commands a second at most (None: unlimited).

    Arrays are `sbatch --array`; each element is followed, cancelled and released by its own
    id (`1234_7`), as squeue (`--array`, `JobArrayID`) and sacct print it.

    Ended jobs carry an `end_cause` from Slurm's state (OUT_OF_MEMORY is `memory`, TIMEOUT
    `walltime`, ...); `pbs.end_cause` weighs it against the job directory.
    """

    delete_command = ("scancel",)
    delete_harmless = ("already completing or completed", "invalid job id")
    release_harmless = ("job has already finished", "no error")
    supports_arrays = True

    def __init__(
        self,
        transport: Transport,
        *,
        job_template: JobTemplate | str | None = None,
        accounting: bool | None = None,
        history: timedelta = timedelta(days=7),
        submit_rate: float | None = None,
    ) -> None:
        super().__init__(transport, submit_rate=submit_rate)
        self.job_template = (
            JobTemplate(job_template) if isinstance(job_template, str) else job_template
        )
        self._accounting = accounting
        self._history_days = max(1, int(history.total_seconds() // 86400))

    def render(self, spec: JobSpec, template: JobTemplate | None = None) -> str:
        """The job.sh `submit` writes for spec (`template`, else the client's, if any)."""
        return render_slurm_script(spec, template or self.job_template)

    async def render_script(self, spec: JobSpec, template: JobTemplate | None = None) -> str:
        return self.render(spec, template)

    async def submit_command(self, spec: JobSpec) -> list[str]:
        return list(sbatch_argv(spec))

    def job_ref(self, job_id: str) -> str:
        return _job_number(job_id)

    def release_command(self, refs: Sequence[str]) -> list[str]:
        return ["scontrol", "release", ",".join(refs)]

    async def array_command(self, array: ArraySpec) -> list[str]:
        return sbatch_array_argv(array)

    # -- scheduler state -------------------------------------------------------------------

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
        named = best_by_name(listed.values(), wanted)
        ours = unique([*numbers, *(info.job_id for info in named.values())])
        history = await self._sacct_ids(
            [n for n in ours if n not in listed or not listed[n].state.active]
        )
        missing = [name for name in wanted if name not in named]
        older = best_by_name(await self._sacct_names(missing), missing)
        history.update((info.job_id, info) for info in older.values())
        known = {**history, **{n: _merge(info, history.get(n)) for n, info in listed.items()}}
        return JobPoll(
            by_id={
                job_id: known.get(_job_number(job_id)) or JobInfo(job_id, JobState.GONE)
                for job_id in asked
            },
            by_name={name: known[info.job_id] for name, info in {**named, **older}.items()},
        )

    usage_lags = True  # slurmdbd records a job's use a moment after it ends

    def reports_usage(self) -> bool:
        """Not where accounting is off (sacct refused): squeue alone never says a job's use."""
        return self._accounting is not False

    async def _squeue(self) -> list[JobInfo]:
        argv = [
            "squeue",
            "--me",
            "--states=all",
            "--array",  # one line per element, even while an array waits whole
            "--noheader",
            f"--Format={SQUEUE_FORMAT}",
        ]
        result = await self.run_scheduler(argv)
        if result.exit_status != 0 and not result.stdout.strip():
            raise CommandFailed(result.argv, result.exit_status, result.stdout, result.stderr)
        return parse_squeue(result.stdout)

    async def _sacct(self, selection: list[str]) -> list[JobInfo]:
        if self._accounting is False:
            return []
        argv = ["sacct", "--noheader", "--parsable2", f"--format={SACCT_FORMAT}", *selection]
        result = await self.run_scheduler(argv)
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


def _merge(listed: JobInfo, history: JobInfo | None) -> JobInfo:
    """
    squeue's view (current), with what only sacct reports: the memory and CPU used against
    what was asked, and a SIGKILL that sacct's peak memory shows to be a memory kill.
    """
    if history is None:
        return listed
    cause = listed.end_cause
    if cause is EndCause.KILLED and history.end_cause is EndCause.MEMORY:
        cause = EndCause.MEMORY
    return dataclasses.replace(
        listed,
        memory_used_bytes=history.memory_used_bytes,
        end_cause=cause,
        cpu_time=history.cpu_time,
        cpus=history.cpus,
        memory_requested_bytes=history.memory_requested_bytes,
        walltime_requested=history.walltime_requested,
    )
