"""
SlurmClient on the real loopback cluster (sbatch, squeue, sacct, scancel), over both
transports: jobs run, fail, are cancelled, killed for memory and for time, found by name after
a lost answer, and found in sacct once squeue has forgotten them.
"""

from __future__ import annotations

import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from pbs import (
    EndCause,
    JobInfo,
    JobSpec,
    JobState,
    JobTemplate,
    LocalTransport,
    SchedulerUnavailable,
    SlurmClient,
    SubmitFailed,
    Transport,
    end_cause,
)
from tests.conftest import ClusterProfile
from tests.pbs.conftest import Jobs, local_transport

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

WAIT_FOR_GO = 'while [ ! -e "$INPUTS/go" ]; do sleep 0.2; done\n'
# Grows one 400 MB line in memory (tail keeps the last line whole): over any small request.
MEMORY_HOG = "head -c 400m /dev/zero | tail > /dev/null"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """asyncio, at module scope, so that the limit jobs start once for the whole module."""
    return "asyncio"


def spec(root: Path, name: str, command: str, **fields: object) -> JobSpec:
    return JobSpec.model_validate(
        {
            "name": name,
            "job_dir": str(root / name),
            "command": command,
            "walltime": "00:10:00",
            "memory_mb": 100,
            **fields,
        }
    )


async def until(check: Callable[[], Awaitable[bool]], seconds: float) -> None:
    """Ask the cluster again every half second until check() holds (hang guard: seconds)."""
    with anyio.fail_after(seconds):
        while not await check():  # noqa: ASYNC110 - the cluster is polled, not a task
            await anyio.sleep(0.5)


async def ended(client: SlurmClient, root: Path, name: str, job_id: str) -> EndCause:
    """Poll until the job's end is settled; return why it ended."""
    found: list[EndCause] = []

    async def settled() -> bool:
        info = (await client.status([job_id]))[job_id]
        cause = end_cause(info, (await client.read_states(root, [name]))[name])
        found[:] = [cause] if cause is not None else []
        return bool(found)

    await until(settled, 120)
    return found[0]


@dataclass(frozen=True)
class LimitJobs:
    root: Path
    over_memory: str
    overtime: str


@pytest.fixture(scope="module")
async def limit_jobs(cluster: ClusterProfile) -> AsyncIterator[LimitJobs]:
    """A job over its memory and one past its walltime, started once for every test here."""
    root = cluster.work_root / f"slurm-limits-{uuid.uuid4().hex[:8]}"
    root.mkdir(parents=True)
    async with local_transport(cluster) as transport:
        client = SlurmClient(transport)
        over_memory = await client.submit(spec(root, "over-memory", MEMORY_HOG, memory_mb=50))
        overtime = await client.submit(
            spec(root, "overtime", "sleep 600", walltime=timedelta(minutes=1))
        )
        try:
            yield LimitJobs(root, over_memory, overtime)
        finally:
            with anyio.move_on_after(30, shield=True):
                await client.delete([over_memory, overtime])


async def test_over_memory_job_ends_for_memory(slurm: SlurmClient, limit_jobs: LimitJobs) -> None:
    """A job over its --mem is killed by Slurm's enforcement and reported as a memory kill."""
    cause = await ended(slurm, limit_jobs.root, "over-memory", limit_jobs.over_memory)
    info = (await slurm.status([limit_jobs.over_memory]))[limit_jobs.over_memory]
    assert (cause, info.end_cause, info.state) == (
        EndCause.MEMORY,
        EndCause.MEMORY,
        JobState.COMPLETED,
    )


async def test_job_runs_to_completion(slurm: SlurmClient, slurm_jobs: Jobs, job_root: Path) -> None:
    """submit -> active by id and by name -> ended with exit 0, its node and memory used known."""
    job_id = await slurm_jobs.submit(spec(job_root, "ok", WAIT_FOR_GO + "echo done > $OUTPUTS/x"))

    async def active() -> bool:
        found = await slurm.poll([job_id], ["ok"])
        return found.by_id[job_id].state.active and found.by_name["ok"].job_id == job_id

    await until(active, 60)
    (job_root / "ok" / "INPUTS" / "go").touch()
    assert await ended(slurm, job_root, "ok", job_id) is EndCause.SUCCESS
    info: list[JobInfo] = []

    async def accounted() -> bool:  # the accounting record may follow the end by a moment
        info[:] = [(await slurm.status([job_id]))[job_id]]
        return info[0].memory_used_bytes is not None

    await until(accounted, 30)
    assert (info[0].exit_status, info[0].exec_host) == (0, os.uname().nodename.split(".")[0])
    assert info[0].memory_used_bytes > 0  # type: ignore[operator]
    assert (job_root / "ok" / "OUTPUTS" / "x").read_text() == "done\n"


async def test_poll_costs_one_squeue_and_at_most_two_sacct(
    slurm: SlurmClient, slurm_jobs: Jobs, job_root: Path, transport: Transport
) -> None:
    """Active jobs: one squeue. Ended ones: plus one sacct by id; missing names: one by name."""
    names = [f"batch-{i}" for i in range(5)]
    ids = [await slurm_jobs.submit(spec(job_root, n, WAIT_FOR_GO)) for n in names]

    async def all_active() -> bool:
        return all(i.state.active for i in (await slurm.status(ids)).values())

    await until(all_active, 60)
    before = transport.round_trips
    found = await slurm.poll(ids, names)
    assert transport.round_trips - before == 1
    assert {name: info.job_id for name, info in found.by_name.items()} == dict(
        zip(names, ids, strict=True)
    )
    for name in names:
        (job_root / name / "INPUTS" / "go").touch()

    async def all_ended() -> bool:
        return not any(i.state.active for i in (await slurm.status(ids)).values())

    await until(all_ended, 60)
    before = transport.round_trips
    await slurm.poll(ids, names)
    assert transport.round_trips - before == 2
    before = transport.round_trips
    found = await slurm.poll(ids, [*names, "never-submitted"])
    assert transport.round_trips - before == 3
    assert "never-submitted" not in found.by_name


async def test_failed_job_reports_its_exit_code(
    slurm: SlurmClient, slurm_jobs: Jobs, job_root: Path
) -> None:
    """exit 3: the directory and squeue agree, and the cause is a non-zero exit."""
    job_id = await slurm_jobs.submit(spec(job_root, "three", "exit 3"))
    assert await ended(slurm, job_root, "three", job_id) is EndCause.EXIT_CODE
    info = (await slurm.status([job_id]))[job_id]
    assert (info.raw_state, info.exit_status) == ("FAILED", 3)
    assert (await slurm.read_states(job_root, ["three"]))["three"].exit_code == 3


async def test_cancelled_job(slurm: SlurmClient, slurm_jobs: Jobs, job_root: Path) -> None:
    """scancel of a running job: CANCELLED, the wrapper's TERM recorded; scancel again is fine."""
    job_id = await slurm_jobs.submit(spec(job_root, "victim", "sleep 300"))

    async def running() -> bool:
        return (await slurm.read_states(job_root, ["victim"]))["victim"].started is not None

    await until(running, 60)
    await slurm.delete([job_id])
    assert await ended(slurm, job_root, "victim", job_id) is EndCause.CANCELLED
    assert (await slurm.read_states(job_root, ["victim"]))["victim"].signal == "TERM"
    await slurm.delete([job_id, "99999999"])


async def test_refusal_is_submit_failed(slurm: SlurmClient, job_root: Path) -> None:
    """An unknown partition is sbatch's refusal: SubmitFailed naming sbatch, with its message."""
    with anyio.fail_after(60), pytest.raises(SubmitFailed) as caught:
        await slurm.submit(spec(job_root, "nowhere", "true", queue="nosuch"))
    assert not isinstance(caught.value, SchedulerUnavailable)
    assert caught.value.command[0] == "sbatch"
    assert "partition" in caught.value.stderr.lower()


async def test_unreachable_controller_is_scheduler_unavailable(
    cluster: ClusterProfile, job_root: Path, tmp_path: Path
) -> None:
    """slurmctld unreachable: SchedulerUnavailable (nothing submitted), not a refusal."""
    text = cluster.slurm_conf.read_text()
    dead = "\n".join(
        "SlurmctldPort=1" if line.startswith("SlurmctldPort=") else line
        for line in text.splitlines()
    )
    conf = tmp_path / "slurm.conf"
    conf.write_text(dead + "\n")
    async with LocalTransport(env={"SLURM_CONF": str(conf)}) as transport:
        with anyio.fail_after(60), pytest.raises(SchedulerUnavailable):
            await SlurmClient(transport).submit(spec(job_root, "unsent", "true"))


async def test_found_by_name_after_a_lost_answer(
    slurm: SlurmClient, slurm_jobs: Jobs, job_root: Path, cluster: ClusterProfile
) -> None:
    """A client that never saw sbatch's answer finds the one job by name, running and ended."""
    # The engine's crash recovery: look the name up before submitting again, and find it.
    job_id = await slurm_jobs.submit(spec(job_root, "adopt-me", WAIT_FOR_GO))
    async with local_transport(cluster) as other:
        after_crash = SlurmClient(other)
        found = await after_crash.find_by_name(["adopt-me", "adopt-nobody"])
        assert list(found) == ["adopt-me"]
        assert found["adopt-me"].job_id == job_id
        (job_root / "adopt-me" / "INPUTS" / "go").touch()
        assert await ended(after_crash, job_root, "adopt-me", job_id) is EndCause.SUCCESS
        assert (await after_crash.find_by_name(["adopt-me"]))["adopt-me"].job_id == job_id
        listing = await other.run(["squeue", "--me", "--states=all", "--noheader", "-o", "%j|%Z"])
    assert listing.stdout.split().count(f"adopt-me|{job_root / 'adopt-me'}") == 1


def shim(tmp_path: Path, command: str, body: str) -> dict[str, str]:
    """An environment whose PATH finds `command` first as a script with body."""
    bin_dir = tmp_path / "shims"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / command
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


async def test_jobs_squeue_forgot_come_from_sacct(
    slurm: SlurmClient, slurm_jobs: Jobs, job_root: Path, cluster: ClusterProfile, tmp_path: Path
) -> None:
    """squeue past its MinJobAge (a squeue listing nothing): sacct answers by id and by name."""
    job_id = await slurm_jobs.submit(spec(job_root, "old-news", "exit 4"))
    assert await ended(slurm, job_root, "old-news", job_id) is EndCause.EXIT_CODE
    env = {"SLURM_CONF": str(cluster.slurm_conf), **shim(tmp_path, "squeue", "exit 0")}
    async with LocalTransport(env=env) as forgetful:
        client = SlurmClient(forgetful)

        async def recorded() -> bool:  # slurmdbd's record trails slurmctld's by a moment
            info = (await client.status([job_id]))[job_id]
            return info.state is JobState.COMPLETED and info.name == "old-news"

        await until(recorded, 30)
        found = await client.poll([job_id, "99999999"], ["old-news"])
    info = found.by_id[job_id]
    assert (info.end_cause, info.exit_status, info.name) == (EndCause.EXIT_CODE, 4, "old-news")
    assert found.by_id["99999999"].state is JobState.GONE
    assert found.by_name["old-news"].job_id == job_id


async def test_disabled_accounting_is_learned_once(cluster: ClusterProfile, tmp_path: Path) -> None:
    """sacct says accounting is disabled: polls stand on squeue, and sacct is not asked again."""
    body = 'echo "sacct: error: Slurm accounting storage is disabled" >&2; exit 1'
    env = {"SLURM_CONF": str(cluster.slurm_conf), **shim(tmp_path, "sacct", body)}
    async with LocalTransport(env=env) as transport:
        client = SlurmClient(transport)
        first = await client.status(["99999999"])
        before = transport.round_trips
        second = await client.status(["99999998"])
    assert first["99999999"].state is JobState.GONE
    assert second["99999998"].state is JobState.GONE
    assert transport.round_trips - before == 1


TEMPLATE = """\
#!/bin/bash
#SBATCH --mem=${job_memory}
#SBATCH --ntasks=${job_ppn}
echo "site line ran for ${job_name} with $$SLURM_JOB_ID" > "${job_dir}/site.txt"
env SITE=yes \\
    ${job_cmds}
"""


async def test_template_job_runs_on_the_cluster(transport: Transport, job_root: Path) -> None:
    """A DAX-style template: its site line runs under Slurm and the job's exit code is recorded."""
    client = SlurmClient(transport, job_template=TEMPLATE)
    job_id = await client.submit(spec(job_root, "templated", 'echo "$SITE"; exit 0'))
    try:
        assert await ended(client, job_root, "templated", job_id) is EndCause.SUCCESS
    finally:
        await client.delete([job_id])
    assert (job_root / "templated" / "site.txt").read_text() == (
        f"site line ran for templated with {job_id}\n"
    )
    assert (job_root / "templated" / "job.log").read_text() == "yes\n"


async def test_a_jobs_own_template_wins_over_the_clients(
    transport: Transport, job_root: Path
) -> None:
    """A processor's template (passed per job) is the one sbatch runs, not the site's."""
    client = SlurmClient(transport, job_template=TEMPLATE)
    own = JobTemplate(TEMPLATE.replace("SITE=yes", "SITE=processor"))
    job_id = await client.submit(spec(job_root, "own-template", 'echo "$SITE"; exit 0'), own)
    try:
        assert await ended(client, job_root, "own-template", job_id) is EndCause.SUCCESS
    finally:
        await client.delete([job_id])
    assert (job_root / "own-template" / "job.log").read_text() == "processor\n"


async def test_overtime_job_ends_for_walltime(slurm: SlurmClient, limit_jobs: LimitJobs) -> None:
    """A job past its one-minute walltime: TIMEOUT, the wrapper's TERM recorded, no exit code."""
    cause = await ended(slurm, limit_jobs.root, "overtime", limit_jobs.overtime)
    state = (await slurm.read_states(limit_jobs.root, ["overtime"]))["overtime"]
    info = (await slurm.status([limit_jobs.overtime]))[limit_jobs.overtime]
    assert (cause, info.raw_state) == (EndCause.WALLTIME, "TIMEOUT")
    assert (state.signal, state.exit_code) == ("TERM", None)


SUBMITTER = """\
import sys, anyio
from pbs import JobSpec, LocalTransport, SlurmClient

async def main() -> None:
    async with LocalTransport() as transport:
        spec = JobSpec(name=sys.argv[1], job_dir=sys.argv[2], command="sleep 120", memory_mb=50)
        print("submitting", flush=True)
        await SlurmClient(transport).submit(spec)
        print("submitted", flush=True)
        await anyio.sleep(60)

anyio.run(main)
"""


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15, 0.4])
async def test_one_job_per_name_across_a_crash(
    cluster: ClusterProfile, job_root: Path, delay: float
) -> None:
    """Submitter and sbatch SIGKILLed at any moment: a lookup by name first leaves one job."""
    name = f"crash-{uuid.uuid4().hex[:8]}"  # a name no earlier run left in squeue
    job_dir = job_root / name
    env = {**os.environ, "SLURM_CONF": str(cluster.slurm_conf)}
    with anyio.fail_after(90):
        async with await anyio.open_process(
            [sys.executable, "-c", SUBMITTER, name, str(job_dir)], env=env, start_new_session=True
        ) as submitter:
            assert submitter.stdout is not None
            said = b""
            while not said.endswith(b"\n"):
                said += await submitter.stdout.receive()
            assert said == b"submitting\n"
            await anyio.sleep(delay)
            os.killpg(submitter.pid, signal.SIGKILL)
        async with local_transport(cluster) as transport:
            client = SlurmClient(transport)
            found = await client.find_by_name([name])
            if name not in found:  # never reached slurmctld: submitting now is the first time
                await client.submit(spec(job_root, name, "sleep 120"))
            listing = await transport.run(
                ["squeue", "--me", "--states=all", "--noheader", "-o", "%i|%j|%Z"]
            )
            ours = [line for line in listing.stdout.splitlines() if line.endswith(f"|{job_dir}")]
            await client.delete([line.split("|")[0] for line in ours])
    assert len(ours) == 1
