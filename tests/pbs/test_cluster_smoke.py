"""Smoke test of the real stack: asyncssh -> OpenSSH on loopback -> qsub/qstat over Slurm."""

from __future__ import annotations

import shlex
import uuid

import anyio
import asyncssh
import pytest

from tests.conftest import ClusterProfile

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


async def _connect(cluster: ClusterProfile) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        cluster.host,
        port=cluster.port,
        username=cluster.user,
        client_keys=[str(cluster.key_path)],
        known_hosts=str(cluster.known_hosts),
    )


async def test_qsub_job_runs_and_writes_its_output(cluster: ClusterProfile) -> None:
    """A job submitted over verified SSH runs on the scheduler and leaves its output file."""
    jobdir = cluster.work_root / f"smoke-{uuid.uuid4().hex[:8]}"
    q = shlex.quote
    script = f'#!/bin/sh\necho "hello from $(hostname)" > {q(str(jobdir / "out.txt"))}\n'
    with anyio.fail_after(60):
        async with await _connect(cluster) as conn:
            await conn.run(f"mkdir -p {q(str(jobdir))}", check=True)
            async with (
                conn.start_sftp_client() as sftp,
                sftp.open(str(jobdir / "job.sh"), "w") as f,
            ):
                await f.write(script)
            submitted = await conn.run(
                f"cd {q(str(jobdir))} && qsub -N smoke -j oe -o job.log job.sh",
                check=True,
            )
            job_id = str(submitted.stdout).strip()
            assert job_id.isdigit(), submitted.stdout
            while True:
                status = await conn.run(f"qstat -f {q(job_id)}")
                if "job_state = C" in str(status.stdout) or status.exit_status == 153:
                    break
                await anyio.sleep(0.5)
            output = await conn.run(f"cat {q(str(jobdir / 'out.txt'))}", check=True)
    assert str(output.stdout).startswith("hello from ")


async def test_unknown_host_key_is_refused(cluster: ClusterProfile, tmp_path: object) -> None:
    """A server whose key is not in known_hosts is refused, not trusted on first use."""
    from pathlib import Path

    empty = Path(str(tmp_path)) / "known_hosts"
    empty.write_text("")
    with anyio.fail_after(30), pytest.raises(asyncssh.HostKeyNotVerifiable):
        await asyncssh.connect(
            cluster.host,
            port=cluster.port,
            username=cluster.user,
            client_keys=[str(cluster.key_path)],
            known_hosts=str(empty),
        )
