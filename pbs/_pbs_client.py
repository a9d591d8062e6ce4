"""
PbsClient: qsub, qstat, qdel and qrls on the `BatchClient` contract, in the server's dialect.

What is PBS's own: the job script's `#PBS` header (`render_job_script`), the dialect (Torque, Torque
XML or PBS Pro, asked of the server once), and qstat's formats, with a fallback when the server
rejects one.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from . import _names
from ._arrays import ArraySpec
from ._batch_client import BatchClient, best_by_name
from ._batches import chunked, unique
from ._causes import exit_signal
from ._dialects import Dialect, StatusFormat, detect_dialect, dialect_named
from ._exceptions import CommandFailed
from ._models import JobInfo, JobPoll, JobState
from ._script import render_job_script
from ._spec import JobSpec
from ._transport import CommandResult, Transport

if TYPE_CHECKING:
    from .slurm import JobTemplate

log = logging.getLogger("pbs.client")


def _sequence(job_id: str) -> str:
    return job_id.split(".", 1)[0]


class PbsClient(BatchClient):
    """
    Submit, follow and delete PBS jobs through a transport.

    Args:
        transport: where `qsub`/`qstat`/`qdel` run (an open `LocalTransport` or `SshTransport`).
        dialect: a `Dialect`, its name (`torque`, `torque-xml`, `pbspro`), or `"auto"` to ask
            the server once, on first use.
        submit_rate: scheduler commands a second at most (None: unlimited).

    Arrays are `qsub -J` (PBS Pro) or `qsub -t` (Torque); an element is `123[7].server`,
    followed, deleted and released by that id. Only Slurm's Torque wrappers ran them here, and
    they stop after the submission (tests/pbs/test_arrays_cluster.py): their qstat lists no
    element (`qstat -t` is an unknown option), and their qrls and qdel read `123_7` as 123,
    acting on the whole array. So no server has confirmed the rest.

    Ended jobs carry an `end_cause` read from the server's exit status (`Exit_status` on PBS
    Pro, `exit_status` on Torque); `pbs.end_cause` weighs it against the job directory.
    """

    delete_command = ("qdel",)
    delete_harmless = ("unknown job id", "invalid state", "invalid for state", "has finished")
    supports_arrays = True

    def __init__(
        self,
        transport: Transport,
        dialect: Dialect | str = "auto",
        *,
        submit_rate: float | None = None,
    ) -> None:
        super().__init__(transport, submit_rate=submit_rate)
        self._dialect = (
            dialect_named(dialect) if isinstance(dialect, str) and dialect != "auto" else dialect
        )
        self._format_index = 0

    async def dialect(self) -> Dialect:
        """The dialect in use (detected with one command the first time, when `auto`)."""
        if not isinstance(self._dialect, Dialect):
            self._dialect = await detect_dialect(self.transport)
            log.info("detected PBS dialect %s", self._dialect.name)
        return self._dialect

    async def render_script(self, spec: JobSpec, template: JobTemplate | None = None) -> str:
        """The `#PBS` job script; a job template is Slurm's alone (the run said so at its start)."""
        del template
        return render_job_script(spec, await self.dialect())

    async def submit_command(self, spec: JobSpec) -> list[str]:
        return list((await self.dialect()).qsub_argv(spec))

    def release_command(self, refs: Sequence[str]) -> list[str]:
        return ["qrls", *refs]

    async def array_command(self, array: ArraySpec) -> list[str]:
        return (await self.dialect()).qsub_array_argv(array)

    # -- scheduler state -------------------------------------------------------------------

    async def status(self, job_ids: Iterable[str]) -> dict[str, JobInfo]:
        """
        The scheduler's view of every id, in one qstat per chunk.

        An id the server no longer knows is `JobState.GONE`, not an error: qstat's exit status
        is ignored and its stdout parsed, since one purged id must not blind the whole poll.
        """
        ids = [_names.check_job_id(job_id) for job_id in unique(job_ids)]
        found: dict[str, JobInfo] = {}
        for chunk in chunked(ids):
            for info in await self._query(chunk):
                found[info.job_id] = info
                found.setdefault(_sequence(info.job_id), info)
        gone = {job_id: JobInfo(job_id=job_id, state=JobState.GONE) for job_id in ids}
        return {
            job_id: found.get(job_id) or found.get(_sequence(job_id)) or gone[job_id]
            for job_id in ids
        }

    async def find_by_name(self, names: Iterable[str]) -> dict[str, JobInfo]:
        """Jobs of one of names, from one qstat of every job (see `BatchClient.find_by_name`)."""
        return best_by_name(await self._query([]), names)

    async def poll(self, job_ids: Iterable[str], names: Iterable[str]) -> JobPoll:
        """`status` of the ids and `find_by_name` of the names: at most two qstat."""
        ids, wanted = unique(job_ids), unique(names)
        by_id = await self.status(ids) if ids else {}
        by_name = await self.find_by_name(wanted) if wanted else {}
        return JobPoll(by_id=by_id, by_name=by_name)

    async def _query(self, ids: list[str]) -> list[JobInfo]:
        dialect = await self.dialect()
        while True:
            status_format = dialect.status_formats[self._format_index]
            result = await self.run_scheduler(status_format.argv(ids))
            if not self._rejected(result, status_format):
                return [_with_cause(info, dialect) for info in status_format.parse(result.stdout)]
            if self._format_index + 1 >= len(dialect.status_formats):
                raise CommandFailed(result.argv, result.exit_status, result.stdout, result.stderr)
            log.warning("server rejects %r; falling back", status_format.name)
            self._format_index += 1

    @staticmethod
    def _rejected(result: CommandResult, status_format: StatusFormat) -> bool:
        # 153 = unknown id(s), also the Slurm wrappers' "nothing matched"; output may be empty.
        if result.exit_status in (0, 153) or result.stdout.strip():
            return False
        return "unknown job id" not in result.stderr.lower()


def _with_cause(info: JobInfo, dialect: Dialect) -> JobInfo:
    """An ended job's exit status read by the dialect's conventions."""
    if info.state is not JobState.COMPLETED or info.exit_status is None:
        return info
    return dataclasses.replace(
        info,
        end_cause=dialect.exit_cause(info.exit_status),
        exit_signal=exit_signal(info.exit_status),
    )
