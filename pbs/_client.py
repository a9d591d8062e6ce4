"""
PbsClient: qsub, qstat, qdel and the job directories, over any Transport.

Every method costs a fixed number of commands, whatever the number of jobs (ids and names are
chunked only to stay under argument-length limits), because a poll that grows with the number
of jobs is what brings PBS servers down.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

from . import _holds, _names
from ._batches import chunked, unique
from ._causes import exit_signal
from ._dialects import Dialect, StatusFormat, detect_dialect, dialect_named
from ._exceptions import CommandFailed
from ._jobdirs import read_states
from ._models import JobDirState, JobInfo, JobPoll, JobState, job_rank
from ._script import render_job_script
from ._spec import JobSpec
from ._submit import submit_argv, submitted_id
from ._transport import CommandResult, Transport

log = logging.getLogger("pbs.client")

# qdel complaints that mean "nothing left to delete", not failure.
_QDEL_HARMLESS = ("unknown job id", "invalid state", "invalid for state", "has finished")


def _sequence(job_id: str) -> str:
    return job_id.split(".", 1)[0]


class PbsClient:
    """
    Submit, follow and delete PBS jobs through a transport.

    Args:
        transport: where `qsub`/`qstat`/`qdel` run (an open `LocalTransport` or `SshTransport`).
        dialect: a `Dialect`, its name (`torque`, `torque-xml`, `pbspro`), or `"auto"` to ask
            the server once, on first use.

    Ended jobs carry an `end_cause` read from the server's exit status (`Exit_status` on PBS
    Pro, `exit_status` on Torque); `pbs.end_cause` weighs it against the job directory.
    """

    def __init__(self, transport: Transport, dialect: Dialect | str = "auto") -> None:
        self.transport = transport
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

    # -- submission ------------------------------------------------------------------------

    async def submit(self, spec: JobSpec) -> str:
        """
        Create the job directory, write job.sh and qsub it; return the job id.

        Stale `status/` files of an earlier run are removed first. One command. A failure to
        prepare the directory raises `CommandFailed`; a refusal by qsub raises `SubmitFailed`
        (`SchedulerUnavailable` when the server could not be reached); a dropped connection
        raises `ConnectionLost` (look the job up with `find_by_name` before submitting again).
        """
        dialect = await self.dialect()
        script = render_job_script(spec, dialect).encode()
        qsub = dialect.qsub_argv(spec)
        argv = submit_argv(str(spec.job_dir), qsub, hold=spec.hold)
        result = await self.transport.run(argv, stdin=script, idempotent=False)
        return submitted_id(result, qsub, str(spec.job_dir))

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
        """
        Jobs the server knows whose name is one of names, in one qstat: how a job whose qsub
        answer was lost is adopted. With several jobs of one name, an active one wins, then the
        newest. Names with no job are absent from the result.
        """
        wanted = set(names)
        best: dict[str, JobInfo] = {}
        for info in await self._query([]):
            if info.name in wanted:
                current = best.get(info.name)
                if current is None or job_rank(info) > job_rank(current):
                    best[info.name] = info
        return best

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
            result = await self.transport.run(status_format.argv(ids))
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

    async def delete(self, job_ids: Iterable[str]) -> None:
        """qdel the jobs; ids already finished or unknown are not an error."""
        ids = [_names.check_job_id(job_id) for job_id in unique(job_ids)]
        for chunk in chunked(ids):
            result = await self.transport.run(["qdel", *chunk])
            complaints = [
                line
                for line in (result.stdout + "\n" + result.stderr).lower().splitlines()
                if line.strip() and not any(h in line for h in _QDEL_HARMLESS)
            ]
            if result.exit_status != 0 and complaints:
                raise CommandFailed(result.argv, result.exit_status, result.stdout, result.stderr)

    # -- held jobs ----------------------------------------------------------------------------

    async def release(self, jobs: Mapping[str, str], work_root: str | PurePosixPath) -> None:
        """
        qrls the held jobs (job name -> id), then forget their markers: one command.

        Raises:
            CommandFailed: not released (the markers stay, and a later look tries again).
        """
        ids = [_names.check_job_id(job_id) for job_id in unique(jobs.values())]
        if ids:
            dirs = job_dirs(work_root, jobs).values()
            await _holds.release(self.transport, ["qrls", *ids], dirs)

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


def _with_cause(info: JobInfo, dialect: Dialect) -> JobInfo:
    """An ended job's exit status read by the dialect's conventions."""
    if info.state is not JobState.COMPLETED or info.exit_status is None:
        return info
    return dataclasses.replace(
        info,
        end_cause=dialect.exit_cause(info.exit_status),
        exit_signal=exit_signal(info.exit_status),
    )


def job_dirs(work_root: str | PurePosixPath, names: Iterable[str]) -> Mapping[str, PurePosixPath]:
    """Where each named job lives under the work root (names checked)."""
    root = _names.check_path(work_root, "work root")
    return {name: root / _names.check_job_name(name) for name in names}
