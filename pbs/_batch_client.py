"""
BatchClient: the job contract every scheduler's client keeps, written once.

A subclass says only what differs between schedulers: the job script it renders, its submit
command, how it polls, and the argv of its delete and release commands. Everything else lives
here: one remote command per submission (the job directory prepared, job.sh written, the
submit command run), held jobs and their markers, the job directories' `status/` files, and
deletions whose harmless complaints (the job already ended) are not errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, ClassVar

from . import _arrays, _holds, _names
from ._arrays import ArraySpec
from ._batches import chunked, unique
from ._exceptions import CommandFailed
from ._jobdirs import read_states
from ._models import JobDirState, JobInfo, JobPoll, job_rank
from ._rate import CommandRate
from ._spec import JobSpec
from ._submit import submit_argv, submitted_id
from ._transport import CommandResult, Transport

if TYPE_CHECKING:
    from .slurm import JobTemplate


class BatchClient:
    """
    Submit, follow, hold, release and delete jobs through a transport.

    Subclasses set `delete_command` and `delete_harmless`, and give `render_script`,
    `submit_command`, `poll`, `job_ref` and `release_command` (and `array_command` where the
    scheduler has job arrays). Every method costs a fixed number of commands, whatever the
    number of jobs (ids and names are chunked only to stay under argument-length limits),
    because a poll that grows with the number of jobs is what brings scheduler servers down.

    Every scheduler command goes through `run_scheduler`, which keeps to `submit_rate`
    (commands a second; None: unlimited) and counts them in `scheduler_commands`.
    """

    #: The command that deletes jobs, before their references.
    delete_command: ClassVar[tuple[str, ...]] = ()
    #: What the delete command says (lower case) of a job that already ended: not a failure.
    delete_harmless: ClassVar[tuple[str, ...]] = ()
    #: What the release command says (lower case), releasing a whole array, of an element
    #: that already ended, or that it did release (Slurm reports each): not a failure there.
    release_harmless: ClassVar[tuple[str, ...]] = ()
    #: Whether a job that ended leaves no trace but its directory (a local process does),
    #: so a job gone from the scheduler whose directory shows its end has completed.
    ended_jobs_vanish: ClassVar[bool] = False
    #: Whether the scheduler accounts what a job used (memory, CPU time) once it closes the
    #: job, so that an observer who sees the job's end first asks it again a moment later.
    accounts_usage: ClassVar[bool] = True
    #: Whether that account is written a moment after the job ends (Slurm's slurmdbd), so that
    #: a job seen ended with no use yet may still get one.
    usage_lags: ClassVar[bool] = False

    def reports_usage(self) -> bool:
        """Whether asking again about a job that just ended can tell what it used."""
        return self.accounts_usage

    #: Whether the scheduler runs job arrays (`submit_array`).
    supports_arrays: ClassVar[bool] = False

    def __init__(self, transport: Transport, *, submit_rate: float | None = None) -> None:
        self.transport = transport
        self.rate = CommandRate(submit_rate)
        self.scheduler_commands = 0

    # -- what a scheduler says differently ----------------------------------------------------

    async def render_script(self, spec: JobSpec, template: JobTemplate | None = None) -> str:
        """The job.sh `submit` writes for spec (a scheduler that takes templates uses one)."""
        raise NotImplementedError

    async def submit_command(self, spec: JobSpec) -> list[str]:
        """The argv that queues job.sh, run inside the job directory."""
        raise NotImplementedError

    async def poll(self, job_ids: Iterable[str], names: Iterable[str]) -> JobPoll:
        """Jobs by id (an unknown id is GONE) and by name (absent if none), in a few commands."""
        raise NotImplementedError

    def job_ref(self, job_id: str) -> str:
        """How the delete and release commands name a job (its id, checked)."""
        return _names.check_job_id(job_id)

    def release_command(self, refs: Sequence[str]) -> list[str]:
        """The argv that lets held jobs start."""
        raise NotImplementedError

    async def array_command(self, array: ArraySpec) -> list[str]:
        """The argv that queues the array's dispatcher (`supports_arrays` schedulers)."""
        raise NotImplementedError

    # -- the contract ------------------------------------------------------------------------

    async def run_scheduler(
        self, argv: Sequence[str], *, stdin: bytes | None = None, idempotent: bool = True
    ) -> CommandResult:
        """Run one scheduler command, in its turn under `submit_rate`, and count it."""
        await self.rate.wait()
        self.scheduler_commands += 1
        return await self.transport.run(argv, stdin=stdin, idempotent=idempotent)

    async def submit(self, spec: JobSpec, template: JobTemplate | None = None) -> str:
        """
        Create the job directory, write job.sh and queue it; return the job id. One command.

        `template` is this job's own job template, for a scheduler that renders one. Stale
        `status/` files of an earlier run are removed first.

        Raises:
            CommandFailed: the job directory could not be prepared.
            SubmitFailed: the scheduler refused the job (`SchedulerUnavailable` when it could
                not be reached).
            ConnectionLost: the outcome is unknown: find the job by name before submitting
                again.
        """
        script = (await self.render_script(spec, template)).encode()
        command = await self.submit_command(spec)
        argv = submit_argv(str(spec.job_dir), command, hold=spec.hold)
        result = await self.run_scheduler(argv, stdin=script, idempotent=False)
        return submitted_id(result, command, str(spec.job_dir))

    async def submit_array(
        self, array: ArraySpec, template: JobTemplate | None = None
    ) -> list[str]:
        """
        Queue the array's elements, each with its own job directory and job.sh as `submit`
        writes them; return the elements' ids, in order. One command.

        Raises: as `submit` (for the array as a whole).
        """
        if not self.supports_arrays:
            raise NotImplementedError(f"{type(self).__name__} has no job arrays")
        scripts = [await self.render_script(spec, template) for spec in array.elements]
        stdin = _arrays.payload(array, scripts, _arrays.dispatcher(scripts[0], array))
        command = await self.array_command(array)
        argv = _arrays.array_submit_argv(array, command)
        result = await self.run_scheduler(argv, stdin=stdin, idempotent=False)
        answer = submitted_id(result, command, str(array.array_dir))
        return _arrays.element_ids(answer, len(array.elements))

    async def status(self, job_ids: Iterable[str]) -> dict[str, JobInfo]:
        """The scheduler's view of every id; an id it no longer knows is `JobState.GONE`."""
        return (await self.poll(job_ids, [])).by_id

    async def find_by_name(self, names: Iterable[str]) -> dict[str, JobInfo]:
        """
        Jobs whose name is one of names: how a job whose submit answer was lost is adopted.
        With several jobs of one name, an active one wins, then the newest; absent if none.
        """
        return (await self.poll([], names)).by_name

    async def delete(self, job_ids: Iterable[str]) -> None:
        """Delete the jobs; ids already ended or unknown are not an error."""
        refs = unique(self.job_ref(job_id) for job_id in job_ids)
        for chunk in chunked(refs):
            result = await self.run_scheduler([*self.delete_command, *chunk])
            if result.exit_status != 0 and _complaints(result, self.delete_harmless):
                raise CommandFailed(result.argv, result.exit_status, result.stdout, result.stderr)

    async def release(self, jobs: Mapping[str, str], work_root: str | PurePosixPath) -> None:
        """
        Let the held jobs (job name -> id) start, then forget their markers: one command.

        Raises:
            CommandFailed: not released (the markers stay, and a later look tries again).
        """
        ids = [_names.check_job_id(job_id) for job_id in unique(jobs.values())]
        if ids:
            await self._release([self.job_ref(job_id) for job_id in ids], jobs, work_root)

    async def release_arrays(self, jobs: Mapping[str, str], work_root: str | PurePosixPath) -> None:
        """
        Let whole held arrays start, every element of each array one of `jobs` (job name ->
        element id) belongs to, then forget those elements' markers: one command. For when
        every element of the arrays is recorded; otherwise `release` the recorded ones.

        Raises:
            CommandFailed: not released (the markers stay).
        """
        arrays = unique(_arrays.array_of(job_id) for job_id in jobs.values())
        if arrays:
            refs = [self.array_ref(array_id) for array_id in arrays]
            await self._release(refs, jobs, work_root, self.release_harmless)

    def array_ref(self, array_id: str) -> str:
        """How the release command names a whole array (its id, as the submission gave it)."""
        return _names.check_job_id(array_id)

    async def _release(
        self,
        refs: Sequence[str],
        jobs: Mapping[str, str],
        work_root: str | PurePosixPath,
        harmless: tuple[str, ...] | None = None,
    ) -> None:
        command = self.release_command(refs)
        argv, stdin = _holds.release_argv(command, job_dirs(work_root, jobs).values())
        result = await self.run_scheduler(argv, stdin=stdin, idempotent=False)
        if result.exit_status == 0:
            return
        if harmless is None or _complaints(result, harmless):
            raise CommandFailed(command, result.exit_status, result.stdout, result.stderr)
        # The arrays released, but for elements that had already ended: the markers go too.
        await self.forget_held(work_root, jobs)

    async def forget_held(self, work_root: str | PurePosixPath, names: Iterable[str]) -> None:
        """Forget the markers of jobs no longer held (released, ended, or gone)."""
        await _holds.forget(self.transport, job_dirs(work_root, names).values())

    async def held_jobs(self, work_root: str | PurePosixPath) -> dict[str, str]:
        """job name -> id of every job submitted held and not released, from the markers."""
        return await _holds.held_jobs(self.transport, work_root)

    async def read_states(
        self, work_root: str | PurePosixPath, names: Iterable[str]
    ) -> dict[str, JobDirState]:
        """`<work_root>/<name>/status/` for every name, in one command per chunk."""
        return await read_states(self.transport, work_root, names)


def best_by_name(jobs: Iterable[JobInfo], names: Iterable[str]) -> dict[str, JobInfo]:
    """The best job for each name: an active one first, then the newest."""
    wanted = set(names)
    best: dict[str, JobInfo] = {}
    for info in jobs:
        if info.name in wanted:
            current = best.get(info.name)
            if current is None or job_rank(info) > job_rank(current):
                best[info.name] = info
    return best


def job_dirs(work_root: str | PurePosixPath, names: Iterable[str]) -> Mapping[str, PurePosixPath]:
    """Where each named job lives under the work root (names checked)."""
    root = _names.check_path(work_root, "work root")
    return {name: root / _names.check_job_name(name) for name in names}


def _complaints(result: CommandResult, harmless: tuple[str, ...]) -> list[str]:
    """The lines of a failed command that are not about a job that already ended."""
    return [
        line
        for line in (result.stdout + "\n" + result.stderr).lower().splitlines()
        if line.strip() and not any(text in line for text in harmless)
    ]
