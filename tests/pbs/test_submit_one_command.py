"""A submission is one remote command: the directory, job.sh and qsub travel together."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from pbs import CommandFailed, JobSpec, PbsClient, SubmitFailed, Transport

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


async def test_submit_costs_one_round_trip_and_writes_the_job_directory(
    transport: Transport, job_root: Path
) -> None:
    """After the dialect is known, submit() is exactly one command and leaves job.sh in place."""
    client = PbsClient(transport, dialect="torque")
    spec = JobSpec(name="one-trip", job_dir=str(job_root / "one-trip"), command="true")
    before = transport.round_trips
    with anyio.fail_after(60):
        job_id = await client.submit(spec)
        await client.delete([job_id])
    assert transport.round_trips - before == 2  # the submit, then the qdel
    assert (job_root / "one-trip" / "job.sh").read_text().startswith("#!/bin/sh")
    assert sorted(p.name for p in (job_root / "one-trip").iterdir() if p.is_dir()) == [
        "INPUTS",
        "OUTPUTS",
        "status",
    ]


async def test_a_directory_that_cannot_be_made_is_not_reported_as_a_qsub_refusal(
    transport: Transport, job_root: Path
) -> None:
    """Preparing fails (a file stands where the directory goes): CommandFailed, not SubmitFailed."""
    (job_root / "blocked").write_text("a file, not a directory")
    client = PbsClient(transport, dialect="torque")
    spec = JobSpec(name="blocked", job_dir=str(job_root / "blocked"), command="true")
    with anyio.fail_after(60), pytest.raises(CommandFailed) as caught:
        await client.submit(spec)
    assert not isinstance(caught.value, SubmitFailed)
    assert "prepare job directory" in str(caught.value)
