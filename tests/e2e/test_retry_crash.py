"""
`aspider run` as a real process, `executor: slurm` through the bastion (`cluster.jump_host`),
SIGKILLed between a retry's held sbatch and its record in XNAT: the next run releases or adopts
that job, and never submits the retry again. Each attempt is one Slurm job, never two.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

import anyio
import pytest
from anyio.abc import Process
from starlette.types import Message, Receive, Scope, Send

from aspider.plan.retry import read_attempts
from pbs import SshTransport
from tests.conftest import ClusterExtras, ClusterProfile
from xnat_client.sandbox import XnatServer, generate_project, serve_tcp

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

PROCESSOR = """\
retry: {attempts: 2, on: [memory], memory_factor: 2}
level: session
requirements: {walltime: '0-00:05', memory: 128M, ppn: 1}
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1w
        keep_multis: first
outputs:
  - stats: out.txt
command:
  type: shell
  script: python3 -c "b = b'x' * (180 << 20)" && echo ok > "$OUTDIR/out.txt"
"""


def _retry_record(scope: Scope) -> bool:
    """A PUT that records a retry's held job: its id, the attempts at the head of the note."""
    if scope.get("method") != "PUT":
        return False
    query = parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True)
    notes = query.get("proc:genProcData/note", [""])
    job = query.get("proc:genProcData/jobid", [""])[0]
    return job != "" and notes[0].startswith("[attempt 1:")


class HoldingServer(XnatServer):
    """Hangs the first retry record (after applying it, or before), and says when it came."""

    def __init__(self, apply: bool) -> None:
        super().__init__()
        self.apply = apply
        self.hold = True
        self.intent = anyio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hold and scope["type"] == "http" and _retry_record(scope):
            if self.apply:

                async def unanswered(message: Message) -> None:
                    """The write is made; its answer never leaves."""

                await super().__call__(scope, receive, unanswered)
            self.intent.set()
            await anyio.sleep_forever()
        await super().__call__(scope, receive, send)


def _settings(
    tmp: Path, url: str, cluster: ClusterProfile, extras: ClusterExtras, project: str
) -> Path:
    """executor: slurm on the login node behind the bastion, named as a hop of jump_host."""
    folder = tmp / "processors"
    folder.mkdir()
    (folder / "hog_v1.0.0.yaml").write_text(PROCESSOR)
    behind = extras.behind_bastion
    path = tmp / "aspider.yaml"
    settings = {
        "processor_paths": [str(folder)],
        "projects": {project: {}},
        "xnat": {"url": url, "user": "admin"},
        "cluster": cluster.cluster_settings(
            "slurm",
            cluster.work_root / f"retry-{project}",
            host=behind.host,
            port=behind.port,
            ssh_config=str(extras.ssh_config),
            jump_host=[extras.bastion.alias],
        ),
    }
    path.write_text(json.dumps(settings))
    return path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASPIDER_")}
    env["ASPIDER_XNAT__PASSWORD"] = "admin"
    return env


async def _aspider(settings: Path, *args: str) -> Process:
    argv = [sys.executable, "-m", "aspider", "run", "--settings", str(settings), *args]
    return await anyio.open_process(argv, env=_env())


async def _slurm_jobs_named(cluster: ClusterProfile, prefix: str) -> Counter[str]:
    """
    Every Slurm job by name: slurmctld's (squeue keeps ended jobs for MinJobAge) and
    accounting's (which trails it by a moment), told apart by job id.
    """
    squeue = ["squeue", "--me", "--states=all", "--noheader", "--format=%i|%j"]
    sacct = ["sacct", "-X", "--noheader", "--parsable2", "--format=JobID,JobName"]
    async with SshTransport(cluster.ssh_settings()) as ssh:
        lines = (await ssh.run(squeue, check=True)).stdout.split()
        lines += (await ssh.run([*sacct, "--starttime=now-1days"], check=True)).stdout.split()
    jobs = dict(line.split("|", 1) for line in lines if "|" in line)
    return Counter(name for name in jobs.values() if name.startswith(prefix))


@pytest.mark.parametrize("applied", [True, False], ids=["retry-recorded", "retry-not-recorded"])
async def test_killed_between_a_retrys_sbatch_and_its_record_gives_one_job_per_attempt(
    cluster: ClusterProfile, extras: ClusterExtras, tmp_path: Path, applied: bool
) -> None:
    """SIGKILL while the retry's held job is recorded: attempt 2 is that one job, released
    (the record landed) or adopted (it did not), never submitted again."""
    project = f"R{uuid.uuid4().hex[:8]}"
    server = HoldingServer(apply=applied)
    generate_project(server, project, sessions=1, assessors_per_session=0, seed=9)
    with anyio.fail_after(240):
        async with serve_tcp(server) as url:
            settings = _settings(tmp_path, url, cluster, extras, project)
            first = await _aspider(settings, project, "--wait", "--interval", "1")
            await server.intent.wait()
            first.send_signal(signal.SIGKILL)
            await first.wait()
            (label,) = [a.label for a in server.store.assessors_of(project)]
            # attempt 1 ended, attempt 2 submitted held: it waits for its record
            assert await _slurm_jobs_named(cluster, project) == Counter({label: 2})
            server.hold = False
            second = await _aspider(settings, project, "--wait", "--interval", "1")
            assert await second.wait() == 0
            (a,) = list(server.store.assessors_of(project))
    assert a.fields.get("procstatus") == "COMPLETE"
    attempts = read_attempts(str(a.fields.get("note", "")))
    assert attempts is not None, a.fields
    assert [(e.memory_mb, e.cause) for e in attempts.entries] == [(128, "memory"), (256, "success")]
    assert await _slurm_jobs_named(cluster, project) == Counter({label: 2})
