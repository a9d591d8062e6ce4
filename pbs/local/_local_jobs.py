"""
LocalClient: jobs as detached processes of the machine it runs on, on the `BatchClient` contract.

No scheduler: a job is a `sh` in a session of its own that records its pid in the job
directory (`.local-pid`) and runs job.sh there, so it survives whoever started it and is found
again by that file. Its id is `<pid>.local`. Held, it writes its marker and stops itself until
`release` sends SIGCONT. The caller bounds how many run at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import anyio

from .._batch_client import BatchClient, job_dirs
from .._dialects import TORQUE
from .._exceptions import SubmitFailed
from .._holds import HELD_MARKER
from .._models import JobInfo, JobPoll, JobState
from .._names import check_job_name
from .._script import render_job_script
from .._spec import JobSpec
from .._transport import Transport

if TYPE_CHECKING:
    from ..slurm import JobTemplate

log = logging.getLogger("pbs.local")

LOCAL_SUFFIX = ".local"

# Lines "name <job name> <state> [pid]" for each name (its `.local-pid`), then "id <pid> <state>"
# for each pid. A process stopped (T) is held; a zombie is gone.
# The state is printed by a function, not captured with $(...): no fork per job on a poll that
# may cover hundreds.
_PROBE = """\
state() {
    if kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
    then
        if grep -q '^State:.*T' "/proc/$1/status" 2>/dev/null
        then printf held
        else printf running
        fi
    else printf gone
    fi
}
root=$1
shift
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    name=$1
    shift
    pid=
    [ -f "$root/$name/.local-pid" ] && IFS= read -r pid < "$root/$name/.local-pid"
    case $pid in ''|*[!0-9]*) continue ;; esac
    printf 'name %s ' "$name"; state "$pid"; printf ' %s\n' "$pid"
done
[ $# -gt 0 ] && shift
for pid in "$@"; do printf 'id %s ' "$pid"; state "$pid"; printf '\n'; done
"""

_PROBED = {"running": JobState.RUNNING, "held": JobState.HELD, "gone": JobState.GONE}

_NICE = 10  # local jobs yield the CPU to the engine, which feeds and empties the queue
# The job records its own pid, then runs job.sh in the same shell (`.`, not a second exec): the
# pid file exists even if the caller dies the moment after the spawn, so the next look finds
# the job by it instead of submitting it again. The directory is an argument, never code, and
# is cleared (`set --`) before job.sh runs, which sees no positional parameters, as under qsub.
_RUN_LOCAL = 'cd "$1" || exit 1; printf "%s\\n" "$$" > .local-pid || exit 1; set --; . ./job.sh'
# Held: the job also writes its marker (`.held`, its id), then stops itself until `release`'s
# SIGCONT; `submit` returns once it has stopped.
_RUN_LOCAL_HELD = (
    'cd "$1" || exit 1; printf "%s\\n" "$$" > .local-pid || exit 1; '
    f'printf "%s{LOCAL_SUFFIX}\\n" "$$" > {HELD_MARKER} || exit 1; kill -STOP $$; set --; '
    ". ./job.sh"
)
_STALE_STATUS = ("started", "exit_code", "finished", "signal")
_REAP_EVERY = 256  # submissions between collections of ended children


class LocalClient(BatchClient):
    """
    Jobs as detached processes of this machine, with the same job directory contract.

    Args:
        transport: a `LocalTransport` (the probe of running jobs and the job directories'
            files go through it).
        work_root: where the job directories are; jobs are found by name under it.
        environment: what every job gets as its environment (the caller leaves out its own
            secrets); the whole of this process's environment when None.

    Jobs run at nice 10: on a machine shared with their caller, the jobs should wait, not the
    work that feeds them. The jobs are this process's children while it runs, so it collects
    the ended ones (on every poll, and every few hundred submissions); after it exits, init does.
    """

    ended_jobs_vanish = True
    accounts_usage = False

    def __init__(
        self,
        transport: Transport,
        work_root: str | PurePosixPath,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(transport)
        self.work_root = PurePosixPath(work_root)
        self.environment = dict(os.environ if environment is None else environment)
        self._children: set[int] = set()

    async def submit(self, spec: JobSpec, template: JobTemplate | None = None) -> str:
        """Start job.sh (the built-in script: a template is Slurm's) as a detached process."""
        del template
        script = render_job_script(spec, TORQUE).encode()
        pid = await anyio.to_thread.run_sync(
            _start_detached, str(spec.job_dir), script, self.environment, spec.hold
        )
        self._children.add(pid)
        if len(self._children) % _REAP_EVERY == 0:
            _reap(self._children)
        return f"{pid}{LOCAL_SUFFIX}"

    async def poll(self, job_ids: Iterable[str], names: Iterable[str]) -> JobPoll:
        """Every job by pid and every name by its `.local-pid`: one command."""
        _reap(self._children)
        ids, wanted = list(dict.fromkeys(job_ids)), list(dict.fromkeys(names))
        if not ids and not wanted:
            return JobPoll(by_id={}, by_name={})
        job_dirs(self.work_root, wanted)  # checks every name before it reaches a shell
        pids = [_pid(job_id) for job_id in ids]
        argv = ["sh", "-c", _PROBE, "sh", str(self.work_root), *wanted, "--", *filter(None, pids)]
        probe = await self.transport.run(argv)
        by_name, by_pid = _read_probe(probe.stdout)
        return JobPoll(
            by_id={
                job_id: by_pid.get(pid or "", JobInfo(job_id, JobState.GONE))
                for job_id, pid in zip(ids, pids, strict=True)
            },
            by_name=by_name,
        )

    async def delete(self, job_ids: Iterable[str]) -> None:
        """
        SIGTERM each job's process group, then SIGCONT: a held job is stopped, and a stopped
        process acts on no signal but SIGKILL until continued. One already ended is no error.
        """
        for pid in filter(None, (_pid(job_id) for job_id in job_ids)):
            try:
                os.killpg(int(pid), signal.SIGTERM)
                os.killpg(int(pid), signal.SIGCONT)
            except (ProcessLookupError, PermissionError):
                log.info("local job %s already ended", pid)

    async def release(self, jobs: Mapping[str, str], work_root: str | PurePosixPath) -> None:
        """SIGCONT each held job, then forget its marker (in this order: see `pbs._holds`)."""
        directories = job_dirs(work_root, jobs)
        for name, job_id in jobs.items():
            pid = _pid(job_id)
            if pid:
                with contextlib.suppress(ProcessLookupError):  # gone: nothing to let go
                    os.kill(int(pid), signal.SIGCONT)
                _forget(str(directories[name]))

    async def forget_held(self, work_root: str | PurePosixPath, names: Iterable[str]) -> None:
        for directory in job_dirs(work_root, names).values():
            _forget(str(directory))

    def release_command(self, refs: Sequence[str]) -> list[str]:  # pragma: no cover
        raise NotImplementedError("local jobs are released by signal, not by a command")


def _pid(job_id: str) -> str | None:
    """The pid in `<pid>.local`, or None for an id that is not a local job's."""
    pid = job_id.split(".", 1)[0]
    return pid if pid.isdigit() else None


def _read_probe(stdout: str) -> tuple[dict[str, JobInfo], dict[str, JobInfo]]:
    """The probe's lines as jobs by name and by pid."""
    by_name: dict[str, JobInfo] = {}
    by_pid: dict[str, JobInfo] = {}
    for line in stdout.splitlines():
        match line.split():
            case ["name", name, state, pid]:
                by_name[check_job_name(name)] = _info(pid, state, name)
            case ["id", pid, state]:
                by_pid[pid] = _info(pid, state, "")
            case _:
                continue
    return by_name, by_pid


def _info(pid: str, state: str, name: str) -> JobInfo:
    return JobInfo(f"{pid}{LOCAL_SUFFIX}", _PROBED.get(state, JobState.GONE), name=name)


def _start_detached(
    directory: str, script: bytes, environment: Mapping[str, str], hold: bool = False
) -> int:
    """
    Write job.sh, clear an earlier run's status files, start the job in its own session.

    One thread hop for the lot, and one exec per job: `posix_spawn` (a vfork, cheap even from a
    large process) starts the `sh` that records its pid and runs job.sh, and the nice value is
    set on the new pid. A launcher shell with `setsid` and `nice` cost three more execs, about
    2.5 ms of CPU per job, on the cores the jobs share with their caller.
    """
    os.makedirs(directory, exist_ok=True)
    with open(f"{directory}/job.sh", "wb") as out:
        out.write(script)
    for stale in [*(f"status/{name}" for name in _STALE_STATUS), ".local-pid", HELD_MARKER]:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{directory}/{stale}")
    argv = ["sh", "-c", _RUN_LOCAL_HELD if hold else _RUN_LOCAL, "sh", directory]
    pid = _spawn(argv, environment)
    with contextlib.suppress(OSError):  # it already runs; a job at nice 0 is only less polite
        nice = max(_NICE, os.getpriority(os.PRIO_PROCESS, 0))  # never kinder than the caller
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    if hold:
        _, status = os.waitpid(pid, os.WUNTRACED)  # held: stopped, with its marker written
        if not os.WIFSTOPPED(status):
            raise SubmitFailed(argv, -1, "", "the job ended before it could be held")
    return pid


def _spawn(argv: list[str], environment: Mapping[str, str]) -> int:
    try:
        return os.posix_spawnp(
            "sh",
            argv,
            environment,
            setsid=True,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
        )
    except OSError as exc:
        raise SubmitFailed(argv, -1, "", f"cannot start the job: {exc.strerror or exc}") from exc
    except NotImplementedError as exc:  # a libc without POSIX_SPAWN_SETSID (glibc < 2.26)
        reason = "this system cannot start a job in its own session"
        raise SubmitFailed(argv, -1, "", reason) from exc


def _forget(directory: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(f"{directory}/{HELD_MARKER}")


def _reap(children: set[int]) -> None:
    """Collect the ended jobs among `children` (only those: other children are asyncio's)."""
    for pid in list(children):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            children.discard(pid)
