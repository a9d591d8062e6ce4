"""
Where jobs run: a PBS cluster (locally or over SSH) or this machine's own processes.

The engine sees one small interface, `JobBackend`: submit a job, observe many jobs at once,
and a transport to stage files in job directories. Observing costs a fixed number of round
trips whatever the number of jobs: one scheduler query for the jobs with an id, one for
recorded intents (looked up by name), and one read of every job directory's `status/` files.

The scheduler's state is a hint, the job directory is the truth: a job whose `status/exit_code`
exists has ended with that code, whatever the scheduler says.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import PurePosixPath
from typing import Protocol

import anyio

from aspider.actions import JobObservation, SchedulerState
from aspider.settings import ENV_PREFIX
from pbs import (
    JobDirState,
    JobInfo,
    JobSpec,
    JobState,
    PbsClient,
    SubmitFailed,
    Transport,
    job_dirs,
)

log = logging.getLogger("aspider.backends")

_STATES: dict[JobState, SchedulerState] = {
    JobState.QUEUED: "queued",
    JobState.HELD: "queued",
    JobState.SUSPENDED: "queued",
    JobState.RUNNING: "running",
    JobState.EXITING: "running",
    JobState.COMPLETED: "completed",
    JobState.GONE: "gone",
    JobState.UNKNOWN: "unknown",
}


class JobBackend(Protocol):
    """What the engine needs from wherever jobs run."""

    transport: Transport
    work_root: PurePosixPath
    name: str

    async def submit(self, spec: JobSpec) -> str:
        """Write the job directory and start or queue the job; return its id."""
        ...

    async def observe(self, jobs: Mapping[str, str]) -> dict[str, JobObservation]:
        """Observations by label for label -> job id ("" for a recorded intent)."""
        ...

    async def cancel(self, job_ids: list[str]) -> None: ...


def job_dir(backend: JobBackend, label: str) -> PurePosixPath:
    """`<work root>/<label>`, the label checked as a job name (no separators, no dots first)."""
    return job_dirs(backend.work_root, [label])[label]


def _elapsed(started: datetime | None, finished: datetime | None) -> str | None:
    """Wall time as HH:MM:SS: elapsed time, which is what a person reads as 'walltime used'."""
    if started is None or finished is None:
        return None
    seconds = max(0, int((finished - started).total_seconds()))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _memory(info: JobInfo | None) -> str | None:
    if info is None or info.memory_used_bytes is None:
        return None
    return f"{info.memory_used_bytes / 1024**2:.0f} MB"


def combine(label: str, info: JobInfo | None, state: JobDirState) -> JobObservation:
    """
    One observation from the scheduler's view and the job directory's.

    A job the scheduler calls completed whose directory shows no end yet is `unknown` (files on
    a shared filesystem may lag): it is looked at again next sweep, and becomes `gone` once the
    scheduler forgets it.
    """
    sched: SchedulerState = _STATES[info.state] if info is not None else "gone"
    if sched == "completed" and not state.ended:
        sched = "unknown"
    return JobObservation(
        label=label,
        scheduler_state=sched,
        exit_code=state.exit_code,
        job_id=info.job_id if info is not None else None,
        started=state.started,
        finished=state.finished,
        node=(info.exec_host or None) if info is not None else None,
        walltime=_elapsed(state.started, state.finished),
        memory=_memory(info),
    )


_PRUNE = """\
root=$1
minutes=$2
shift 2
for name in "$@"; do
    d="$root/$name"
    [ -d "$d" ] || continue
    if [ -z "$(find "$d" -maxdepth 2 -mmin "-$minutes" 2>/dev/null | head -n 1)" ]
    then rm -rf -- "$d" && echo "$name"
    fi
done
"""


async def prune_job_dirs(
    transport: Transport, work_root: PurePosixPath, labels: list[str], older_than_days: float
) -> list[str]:
    """
    Remove the job directories of failed tasks in which nothing has changed for
    `older_than_days`, in one command: they are kept that long so a person can look at what
    the job left. "Nothing changed" (no entry of the directory, its `status/`, `INPUTS/` or
    `OUTPUTS/` newer) covers jobs that never wrote `status/finished`: killed outright, or
    never started because the submission failed.
    """
    if not labels:
        return []
    job_dirs(work_root, labels)  # checks every label before it reaches a shell
    minutes = str(max(0, int(older_than_days * 24 * 60)))
    argv = ["sh", "-c", _PRUNE, "sh", str(work_root), minutes, *labels]
    result = await transport.run(argv)
    return result.stdout.split()


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
        with_id = {label: jid for label, jid in jobs.items() if jid}
        intents = [label for label, jid in jobs.items() if not jid]
        infos: dict[str, JobInfo] = {}
        if with_id:
            by_id = await self.client.status(with_id.values())
            infos.update({label: by_id[jid] for label, jid in with_id.items()})
        if intents:
            infos.update(await self.client.find_by_name(intents))
        states = await self.client.read_states(self.work_root, jobs.keys())
        return {label: combine(label, infos.get(label), states[label]) for label in jobs}

    async def cancel(self, job_ids: list[str]) -> None:
        await self.client.delete(job_ids)


_PROBE = """\
root=$1
shift
for name in "$@"; do
    pid=
    [ -f "$root/$name/.local-pid" ] && IFS= read -r pid < "$root/$name/.local-pid"
    case $pid in ''|*[!0-9]*) echo "$name gone"; continue ;; esac
    if kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
    then echo "$name running $pid"
    else echo "$name gone $pid"
    fi
done
"""


_NICE = 10  # local jobs yield the CPU to the engine, which feeds and empties the queue
# The job records its own pid, then runs job.sh in the same shell (`.`, not a second exec): the
# pid file exists even if the engine dies the moment after the spawn, so the next sweep finds
# the job by it instead of submitting it again. The directory is an argument, never code, and
# is cleared (`set --`) before job.sh runs, which sees no positional parameters, as under qsub.
_RUN_LOCAL = 'cd "$1" || exit 1; printf "%s\\n" "$$" > .local-pid || exit 1; set --; . ./job.sh'
_STALE_STATUS = ("started", "exit_code", "finished", "signal")
_REAP_EVERY = 256  # submissions between collections of ended children


def job_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The engine's environment without its own settings: `ASPIDER_XNAT__PASSWORD` and kin."""
    return {k: v for k, v in environ.items() if not k.startswith(ENV_PREFIX)}


def _start_detached(directory: str, script: bytes, environment: Mapping[str, str]) -> int:
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
    for stale in [*(f"status/{name}" for name in _STALE_STATUS), ".local-pid"]:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{directory}/{stale}")
    argv = ["sh", "-c", _RUN_LOCAL, "sh", directory]
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
    return pid


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

    async def submit(self, spec: JobSpec) -> str:
        from pbs import TORQUE, render_job_script

        script = render_job_script(spec, TORQUE).encode()
        directory, environment = str(spec.job_dir), self._environment
        pid = await anyio.to_thread.run_sync(_start_detached, directory, script, environment)
        self._children.add(pid)
        if len(self._children) % _REAP_EVERY == 0:
            _reap(self._children)
        return f"{pid}.local"

    async def observe(self, jobs: Mapping[str, str]) -> dict[str, JobObservation]:
        _reap(self._children)
        if not jobs:
            return {}
        labels = list(jobs)
        job_dirs(self.work_root, labels)  # checks every label before it reaches a shell
        probe = await self.transport.run(["sh", "-c", _PROBE, "sh", str(self.work_root), *labels])
        alive = {}
        for line in probe.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                pid = parts[2] if len(parts) > 2 else ""
                alive[parts[0]] = (parts[1] == "running", pid)
        states = await self._pbs.read_states(self.work_root, labels)
        out = {}
        for label in labels:
            running, pid = alive.get(label, (False, ""))
            job_state = JobState.RUNNING if running else JobState.GONE
            info = JobInfo(job_id=f"{pid}.local", state=job_state) if pid else None
            if info is not None and not running and states[label].ended:
                info = JobInfo(job_id=info.job_id, state=JobState.COMPLETED)
            out[label] = combine(label, info, states[label])
        return out

    async def cancel(self, job_ids: list[str]) -> None:
        pids = [jid.split(".", 1)[0] for jid in job_ids if jid.split(".", 1)[0].isdigit()]
        for pid in pids:
            try:
                os.killpg(int(pid), 15)
            except (ProcessLookupError, PermissionError):
                log.info("local job %s already ended", pid)
