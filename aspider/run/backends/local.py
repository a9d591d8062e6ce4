"""
Jobs as detached processes of this machine, with the same job directory contract as a cluster.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

import anyio

from aspider.plan.actions import JobObservation
from aspider.run.backends.base import combine, job_names
from aspider.settings import ENV_PREFIX
from pbs import (
    HELD_MARKER,
    TORQUE,
    JobInfo,
    JobSpec,
    JobState,
    JobTemplate,
    PbsClient,
    SubmitFailed,
    Transport,
    held_jobs,
    job_dirs,
    render_job_script,
)

log = logging.getLogger("aspider.run.backends")

_PROBE = """\
root=$1
shift
for name in "$@"; do
    pid=
    [ -f "$root/$name/.local-pid" ] && IFS= read -r pid < "$root/$name/.local-pid"
    case $pid in ''|*[!0-9]*) echo "$name gone"; continue ;; esac
    if kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
    then
        if grep -q '^State:.*T' "/proc/$pid/status" 2>/dev/null
        then echo "$name held $pid"
        else echo "$name running $pid"
        fi
    else echo "$name gone $pid"
    fi
done
"""


_PROBED = {"running": JobState.RUNNING, "held": JobState.HELD}  # a stopped process is held

_NICE = 10  # local jobs yield the CPU to the engine, which feeds and empties the queue
# The job records its own pid, then runs job.sh in the same shell (`.`, not a second exec): the
# pid file exists even if the engine dies the moment after the spawn, so the next sweep finds
# the job by it instead of submitting it again. The directory is an argument, never code, and
# is cleared (`set --`) before job.sh runs, which sees no positional parameters, as under qsub.
_RUN_LOCAL = 'cd "$1" || exit 1; printf "%s\\n" "$$" > .local-pid || exit 1; set --; . ./job.sh'
# Held: the job also writes its marker (`pbs` `.held`, its id), then stops itself until the
# engine's SIGCONT (`release`); `submit` returns once it has stopped.
_RUN_LOCAL_HELD = (
    'cd "$1" || exit 1; printf "%s\\n" "$$" > .local-pid || exit 1; '
    'printf "%s.local\\n" "$$" > .held || exit 1; kill -STOP $$; set --; . ./job.sh'
)
_STALE_STATUS = ("started", "exit_code", "finished", "signal")
_REAP_EVERY = 256  # submissions between collections of ended children


def job_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The engine's environment without its own settings: `ASPIDER_XNAT__PASSWORD` and kin."""
    return {k: v for k, v in environ.items() if not k.startswith(ENV_PREFIX)}


def _start_detached(
    directory: str, script: bytes, environment: Mapping[str, str], hold: bool = False
) -> int:
    """
    Write job.sh, clear an earlier run's status files, start the job in its own session.

    One thread hop for the lot, and one exec per job: `posix_spawn` (a vfork, cheap even from a
    large engine) starts the `sh` that records its pid and runs job.sh, and the nice value is
    set on the new pid. A launcher shell with `setsid` and `nice` cost three more execs, about
    2.5 ms of CPU per job, on the cores the jobs share with the engine.
    """
    os.makedirs(directory, exist_ok=True)
    with open(f"{directory}/job.sh", "wb") as out:
        out.write(script)
    for stale in [*(f"status/{name}" for name in _STALE_STATUS), ".local-pid", HELD_MARKER]:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{directory}/{stale}")
    argv = ["sh", "-c", _RUN_LOCAL_HELD if hold else _RUN_LOCAL, "sh", directory]
    try:
        pid = os.posix_spawnp(
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
    with contextlib.suppress(OSError):  # it already runs; a job at nice 0 is only less polite
        nice = max(_NICE, os.getpriority(os.PRIO_PROCESS, 0))  # never kinder than the engine
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    if hold:
        _, status = os.waitpid(pid, os.WUNTRACED)  # held: stopped, with its marker written
        if not os.WIFSTOPPED(status):
            raise SubmitFailed(argv, -1, "", "the job ended before it could be held")
    return pid


def _release(directory: str, pid: int) -> None:
    """Let a held local job go on, then forget its marker (in this order: see `pbs._holds`)."""
    with contextlib.suppress(ProcessLookupError):  # it is gone: nothing to let go
        os.kill(pid, signal.SIGCONT)
    _forget(directory)


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


class LocalBackend:
    """
    Jobs as detached processes of this machine, with the same job directory contract.

    It is the embedded default for small labs and the demo: no scheduler, so the number of
    jobs running at once is bounded by the planner's queue limit. Jobs are detached (their own
    session) so they survive the engine, which finds them again through `.local-pid`. They run
    at nice 10: on a machine shared with the engine, the jobs should wait, not the uploads and
    submissions of the sweep that follows them. They get the engine's environment without its
    settings (`ASPIDER_*`, where the XNAT password may be): a job never holds XNAT credentials.

    The jobs are the engine's children while it runs, so it collects the ended ones (on every
    poll, and every few hundred submissions); once the engine exits, init does.
    """

    name = "local"

    def __init__(self, transport: Transport, work_root: str) -> None:
        self.transport = transport
        self.work_root = PurePosixPath(work_root)
        self._pbs = PbsClient(transport, dialect="torque")
        self._environment = job_environment(os.environ)
        self._children: set[int] = set()

    async def submit(self, spec: JobSpec, template: JobTemplate | None = None) -> str:
        del template  # a local job runs the built-in script: the run said so at its start
        script = render_job_script(spec, TORQUE).encode()
        directory, environment = str(spec.job_dir), self._environment
        pid = await anyio.to_thread.run_sync(
            _start_detached, directory, script, environment, spec.hold
        )
        self._children.add(pid)
        if len(self._children) % _REAP_EVERY == 0:
            _reap(self._children)
        return f"{pid}.local"

    async def observe(self, jobs: Mapping[str, str]) -> dict[str, JobObservation]:
        _reap(self._children)
        if not jobs:
            return {}
        labels = list(jobs)
        names = job_names(labels)
        wanted = list(names.values())
        job_dirs(self.work_root, wanted)  # checks every name before it reaches a shell
        probe = await self.transport.run(["sh", "-c", _PROBE, "sh", str(self.work_root), *wanted])
        alive = {}
        for line in probe.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                pid = parts[2] if len(parts) > 2 else ""
                alive[parts[0]] = (parts[1], pid)
        states = await self._pbs.read_states(self.work_root, wanted)
        out = {}
        for label in labels:
            name = names[label]
            state, pid = alive.get(name, ("gone", ""))
            running = state != "gone"
            job_state = _PROBED.get(state, JobState.GONE)
            info = JobInfo(job_id=f"{pid}.local", state=job_state) if pid else None
            if info is not None and not running and states[name].ended:
                info = JobInfo(job_id=info.job_id, state=JobState.COMPLETED)
            out[label] = combine(label, info, states[name])
        return out

    async def release(self, jobs: Mapping[str, str]) -> None:
        directories = job_dirs(self.work_root, jobs)
        for name, job_id in jobs.items():
            pid = job_id.split(".", 1)[0]
            if pid.isdigit():
                _release(str(directories[name]), int(pid))

    async def forget_held(self, names: Iterable[str]) -> None:
        for directory in job_dirs(self.work_root, names).values():
            _forget(str(directory))

    async def held_jobs(self) -> dict[str, str]:
        return await held_jobs(self.transport, self.work_root)

    async def cancel(self, job_ids: list[str]) -> None:
        pids = [jid.split(".", 1)[0] for jid in job_ids if jid.split(".", 1)[0].isdigit()]
        for pid in pids:
            try:
                os.killpg(int(pid), 15)
            except (ProcessLookupError, PermissionError):
                log.info("local job %s already ended", pid)
