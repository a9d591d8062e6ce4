"""
Why a job ended: PBS Pro's and Torque's exit-status conventions on samples, through the
client as the engine sees them, and `end_cause` weighing the scheduler against the directory.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pbs import (
    PBSPRO,
    TORQUE,
    CommandResult,
    Dialect,
    EndCause,
    FileStat,
    JobDirState,
    JobInfo,
    JobState,
    PbsClient,
    end_cause,
)

SAMPLES = Path(__file__).parent / "samples"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


class CannedQstat:
    """A transport that answers every command with one recorded qstat output (unit tests)."""

    def __init__(self, output: str) -> None:
        self.output = output
        self.round_trips = 0

    async def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        check: bool = False,
        idempotent: bool = True,
    ) -> CommandResult:
        self.round_trips += 1
        return CommandResult(tuple(argv), 0, self.output, "")

    async def read_bytes(self, path: object) -> bytes:
        raise NotImplementedError

    async def write_bytes(self, path: object, data: bytes) -> None:
        raise NotImplementedError

    async def upload(self, path: object, chunks: AsyncIterable[bytes]) -> None:
        raise NotImplementedError

    def download(self, path: object) -> AsyncIterator[bytes]:
        raise NotImplementedError

    async def list_dir(self, path: object) -> list[str]:
        raise NotImplementedError

    async def stat(self, path: object) -> FileStat | None:
        raise NotImplementedError

    async def make_dirs(self, path: object) -> None:
        raise NotImplementedError

    async def remove(self, path: object) -> None:
        raise NotImplementedError

    async def rename(self, source: object, target: object) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


async def causes(sample: str, dialect: Dialect) -> dict[str, EndCause | None]:
    """Every job of the sample by name, as the client reports it to the engine."""
    text = (SAMPLES / sample).read_text()
    names = [job.name or "" for job in dialect.status_formats[0].parse(text)]
    found = await PbsClient(CannedQstat(text), dialect).find_by_name(names)
    return {name: job.end_cause for name, job in found.items()}


@pytest.mark.anyio
async def test_pbspro_exit_status_conventions() -> None:
    """PBS Pro: -27/-26 memory, -29/-28 time, other negatives the server, 256+n a signal."""
    assert await causes("pbspro_qstat_json_limits.json", PBSPRO) == {
        "mem-kill": EndCause.MEMORY,
        "vmem-kill": EndCause.MEMORY,
        "cput-kill": EndCause.WALLTIME,
        "bad-uid": EndCause.SCHEDULER,
        "sigkill": EndCause.KILLED,
        "exit-137": EndCause.EXIT_CODE,
        "still-running": None,
        "deleted-queued": None,
    }
    earlier = await causes("pbspro_qstat_json.json", PBSPRO)
    assert earlier["123"] is EndCause.WALLTIME  # Exit_status -29
    assert earlier["PROJ-x-SUBJ1-x-SESS1-x-fs7-x-0a1b2c3d"] is EndCause.SUCCESS


@pytest.mark.anyio
async def test_torque_exit_status_conventions() -> None:
    """Torque: -10 memory, -11/-12 time, other negatives the server; 265 and 271 a signal."""
    assert await causes("torque_qstat_f1_limits.txt", TORQUE) == {
        "mem-kill": EndCause.MEMORY,
        "walltime-kill": EndCause.WALLTIME,
        "cput-kill": EndCause.WALLTIME,
        "mom-retry": EndCause.SCHEDULER,
        "walltime-old-server": EndCause.KILLED,
        "exiting": None,
    }
    earlier = await causes("torque_qstat_f1.txt", TORQUE)
    assert earlier["PROJ-x-SUBJ1-x-SESS1-x-fs7-x-0a1b2c3d"] is EndCause.KILLED  # 271


@pytest.mark.anyio
async def test_the_same_code_means_different_things_per_flavour() -> None:
    """-10 is a memory kill on Torque but a bad uid on PBS Pro: the dialect decides."""
    torque = await causes("torque_qstat_f1_limits.txt", TORQUE)
    pbspro = await causes("pbspro_qstat_json_limits.json", PBSPRO)
    assert (torque["mem-kill"], pbspro["bad-uid"]) == (EndCause.MEMORY, EndCause.SCHEDULER)


def info(state: JobState, cause: EndCause | None = None) -> JobInfo:
    return JobInfo(job_id="1", state=state, end_cause=cause)


EXITED_0 = JobDirState(exists=True, started=NOW, exit_code=0, finished=NOW)
EXITED_137 = JobDirState(exists=True, started=NOW, exit_code=137, finished=NOW)
TRAPPED = JobDirState(exists=True, started=NOW, finished=NOW, signal="TERM")
RUNNING = JobDirState(exists=True, started=NOW)
NOTHING = JobDirState(exists=True)

DONE = JobState.COMPLETED


@pytest.mark.parametrize(
    ("scheduler", "directory", "expected"),
    [
        (info(DONE, EndCause.SUCCESS), EXITED_0, EndCause.SUCCESS),
        (info(DONE, EndCause.MEMORY), EXITED_0, EndCause.SUCCESS),  # exit 0 is the truth
        (None, EXITED_0, EndCause.SUCCESS),
        (info(DONE, EndCause.MEMORY), EXITED_137, EndCause.MEMORY),
        (info(DONE, EndCause.EXIT_CODE), EXITED_137, EndCause.EXIT_CODE),
        (info(JobState.EXITING), EXITED_137, None),  # the verdict may still come
        (info(JobState.GONE), EXITED_137, EndCause.EXIT_CODE),
        (info(DONE, EndCause.WALLTIME), TRAPPED, EndCause.WALLTIME),
        (info(DONE, EndCause.CANCELLED), TRAPPED, EndCause.CANCELLED),
        (info(DONE), TRAPPED, EndCause.KILLED),  # Torque wrappers: no exit status at all
        (info(DONE, EndCause.SCHEDULER), TRAPPED, EndCause.SCHEDULER),
        (info(DONE, EndCause.NODE_FAILURE), RUNNING, EndCause.NODE_FAILURE),
        (info(DONE, EndCause.PREEMPTED), NOTHING, EndCause.PREEMPTED),
        (info(DONE, EndCause.KILLED), RUNNING, EndCause.KILLED),  # SIGKILL: nothing trapped
        (info(JobState.RUNNING), RUNNING, None),
        (info(DONE, EndCause.SUCCESS), RUNNING, None),  # files lag behind the scheduler
        (info(JobState.GONE), RUNNING, EndCause.LOST),
        (None, NOTHING, EndCause.LOST),
    ],
)
def test_end_cause_weighs_scheduler_and_directory(
    scheduler: JobInfo | None, directory: JobDirState, expected: EndCause | None
) -> None:
    """The directory's exit code and the scheduler's reason, combined as documented."""
    assert end_cause(scheduler, directory) is expected
