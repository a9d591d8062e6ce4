"""PbsClient on the real loopback cluster (Slurm with the Torque wrappers), over both transports."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest

from pbs import (
    TORQUE,
    InvalidValue,
    JobDirState,
    JobSpec,
    JobState,
    PbsClient,
)
from tests.pbs.conftest import Jobs

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

WAIT_FOR_GO = 'while [ ! -e "$INPUTS/go" ]; do sleep 0.2; done\n'


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


async def poll(check: Callable[[], Awaitable[bool]], seconds: float) -> None:
    """Ask the cluster again every half second until check() holds (hang guard: seconds)."""
    with anyio.fail_after(seconds):
        while not await check():  # noqa: ASYNC110 - the cluster is polled, not a task
            await anyio.sleep(0.5)


async def final_state(client: PbsClient, root: Path, name: str, seconds: float) -> JobDirState:
    states: dict[str, JobDirState] = {}

    async def ended() -> bool:
        states.update(await client.read_states(root, [name]))
        return states[name].ended

    await poll(ended, seconds)
    return states[name]


async def test_job_runs_to_completion(client: PbsClient, jobs: Jobs, job_root: Path) -> None:
    """submit -> active while held back -> completed, with exit code 0 from the job directory."""
    job_id = await jobs.submit(spec(job_root, "ok", WAIT_FOR_GO + "echo done > $OUTPUTS/out"))
    first = (await client.status([job_id]))[job_id]
    assert first.state in (JobState.QUEUED, JobState.RUNNING)
    assert first.name == "ok"
    await client.transport.write_bytes(job_root / "ok" / "INPUTS" / "go", b"")
    state = await final_state(client, job_root, "ok", 60)
    assert (state.exists, state.exit_code, state.signal) == (True, 0, None)
    assert state.started is not None
    assert state.finished is not None
    assert (job_root / "ok" / "OUTPUTS" / "out").read_text() == "done\n"
    assert (await client.status([job_id]))[job_id].state is JobState.COMPLETED


async def test_failing_job_reports_its_exit_code(
    client: PbsClient, jobs: Jobs, job_root: Path
) -> None:
    """A command that exits 3 leaves exit_code 3 (the wrappers' qstat cannot tell)."""
    await jobs.submit(spec(job_root, "three", "echo failing; exit 3"))
    state = await final_state(client, job_root, "three", 60)
    assert state.exit_code == 3
    assert (job_root / "three" / "job.log").read_text() == "failing\n"


async def test_qdel_kills_a_running_job(client: PbsClient, jobs: Jobs, job_root: Path) -> None:
    """qdel on a running job ends it without an exit code, and the scheduler stops listing it."""
    job_id = await jobs.submit(spec(job_root, "victim", "sleep 600"))

    async def started() -> bool:
        return (await client.read_states(job_root, ["victim"]))["victim"].started is not None

    await poll(started, 60)
    await client.delete([job_id])

    async def over() -> bool:
        return not (await client.status([job_id]))[job_id].state.active

    await poll(over, 60)
    assert (await client.read_states(job_root, ["victim"]))["victim"].exit_code is None


async def test_find_by_name_adopts_a_job(client: PbsClient, jobs: Jobs, job_root: Path) -> None:
    """A job can be found by its name alone (as after a lost qsub answer); absent names are not."""
    name = f"adopt-{uuid.uuid4().hex[:8]}"
    job_id = await jobs.submit(spec(job_root, name, WAIT_FOR_GO))
    found = await client.find_by_name([name, "no-such-job-name"])
    assert list(found) == [name]
    assert found[name].job_id == job_id
    await client.transport.write_bytes(job_root / name / "INPUTS" / "go", b"")


async def test_unknown_ids_are_gone_not_errors(
    client: PbsClient, jobs: Jobs, job_root: Path
) -> None:
    """An id the server does not know is `gone`, and does not hide the known ones."""
    job_id = await jobs.submit(spec(job_root, "known", WAIT_FOR_GO))
    states = await client.status([job_id, "999999"])
    assert states["999999"].state is JobState.GONE
    assert states[job_id].state.active
    await client.transport.write_bytes(job_root / "known" / "INPUTS" / "go", b"")


async def test_delete_ignores_finished_and_unknown(client: PbsClient) -> None:
    """qdel of ids that no longer exist is not an error."""
    await client.delete(["999998", "999999"])


@pytest.mark.parametrize(
    "name", ["a b", "x;touch {marker}", "$(touch {marker})", "`touch {marker}`", "../x", "é"]
)
async def test_hostile_names_never_reach_the_cluster(
    client: PbsClient, job_root: Path, tmp_path: Path, name: str
) -> None:
    """Hostile names are refused before any command runs; no injected command runs."""
    marker = tmp_path / "pwned"
    hostile = name.format(marker=marker)
    before = client.transport.round_trips
    with pytest.raises(InvalidValue):
        await client.read_states(job_root, [hostile])
    with pytest.raises(ValueError, match="job name"):
        spec(job_root, hostile, "true")
    assert client.transport.round_trips == before
    assert not marker.exists()


async def test_hostile_values_are_passed_quoted(
    client: PbsClient, jobs: Jobs, job_root: Path, tmp_path: Path
) -> None:
    """A hostile environment value travels through qsub and the job as data, never as code."""
    marker = tmp_path / "pwned"
    value = f"$(touch {marker}) `touch {marker}`; touch {marker} 'q\" é"
    await jobs.submit(
        spec(job_root, "quoted", 'printf "%s" "$V" > "$OUTPUTS/v"', environment={"V": value})
    )
    state = await final_state(client, job_root, "quoted", 60)
    assert state.exit_code == 0
    assert (job_root / "quoted" / "OUTPUTS" / "v").read_text() == value
    assert not marker.exists()


async def test_resubmission_clears_stale_status(
    client: PbsClient, jobs: Jobs, job_root: Path
) -> None:
    """Submitting again into a job directory removes the previous run's exit code first."""
    await jobs.submit(spec(job_root, "again", "exit 5"))
    assert (await final_state(client, job_root, "again", 60)).exit_code == 5
    await jobs.submit(spec(job_root, "again", WAIT_FOR_GO + "exit 0"))
    assert (await client.read_states(job_root, ["again"]))["again"].exit_code is None
    await client.transport.write_bytes(job_root / "again" / "INPUTS" / "go", b"")
    assert (await final_state(client, job_root, "again", 60)).exit_code == 0


async def test_detects_the_torque_dialect(client: PbsClient) -> None:
    """`auto` asks the server once and picks Torque for the Slurm wrappers."""
    detected = PbsClient(client.transport)
    assert (await detected.dialect()) is TORQUE
