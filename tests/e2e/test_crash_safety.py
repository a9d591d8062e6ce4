"""
`aspider run` as a real process against the sandbox over TCP and the loopback cluster:
killed between qsub and the job-id write, and run twice at once. Each task gets one job.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import uuid
from collections import Counter
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process
from starlette.types import Receive, Scope, Send

from aspider.demo import DEMO_PROCESSORS
from pbs import SshTransport
from tests.conftest import ClusterProfile
from xnat_client.sandbox import XnatServer, generate_project, serve_tcp

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

_JOBID_WRITE = re.compile(
    r"(^|&)proc%3AgenProcData%2Fjobid=[0-9]|(^|&)proc:genProcData/jobid=[0-9]"
)


class HoldingServer(XnatServer):
    """Hangs every request that would record a job id, and says when the first arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = True
        self.jobid_write = anyio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        if self.hold and scope.get("method") == "PUT" and _JOBID_WRITE.search(query):
            self.jobid_write.set()
            await anyio.sleep_forever()
        await super().__call__(scope, receive, send)


def _settings(tmp: Path, url: str, cluster: ClusterProfile, project: str) -> Path:
    path = tmp / "aspider.yaml"
    path.write_text(
        json.dumps(
            {
                "processor_paths": [str(DEMO_PROCESSORS / "imgstats_v1.0.0.yaml")],
                "projects": {project: {}},
                "xnat": {"url": url, "user": "admin"},
                "cluster": cluster.cluster_settings("pbs", cluster.work_root / f"crash-{project}"),
            }
        )
    )
    return path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASPIDER_")}
    env["ASPIDER_XNAT__PASSWORD"] = "admin"
    return env


async def _aspider(settings: Path, *args: str) -> Process:
    argv = [sys.executable, "-m", "aspider", "run", "--settings", str(settings), *args]
    return await anyio.open_process(argv, env=_env())


async def _jobs_named(cluster: ClusterProfile, prefix: str) -> Counter[str]:
    settings = cluster.ssh_settings()
    async with SshTransport(settings) as ssh:
        out = (await ssh.run(["qstat", "-f"])).stdout
    names = re.findall(r"Job_Name = (\S+)", out)
    return Counter(n for n in names if n.startswith(prefix))


async def test_killed_between_qsub_and_jobid_write_then_rerun_gives_one_job_each(
    cluster: ClusterProfile, tmp_path: Path
) -> None:
    """SIGKILL after qsub, before the job id reaches XNAT: the rerun adopts, never resubmits."""
    project = f"K{uuid.uuid4().hex[:8]}"
    server = HoldingServer()
    generate_project(server, project, sessions=2, assessors_per_session=0, seed=4)
    with anyio.fail_after(240):
        async with serve_tcp(server) as url:
            settings = _settings(tmp_path, url, cluster, project)
            first = await _aspider(settings, project)
            await server.jobid_write.wait()
            first.send_signal(signal.SIGKILL)
            await first.wait()
            orphans = await _jobs_named(cluster, project)
            assert orphans, "the kill came after qsub: its job exists, XNAT has no job id"
            assert not any(a.fields.get("jobid") for a in server.store.assessors_of(project))
            server.hold = False
            second = await _aspider(settings, project, "--wait", "--interval", "1")
            assert await second.wait() == 0
            snap_assessors = list(server.store.assessors_of(project))
    labels = [a.label for a in snap_assessors]
    assert len(labels) == 2
    assert {a.fields.get("procstatus") for a in snap_assessors} == {"COMPLETE"}
    assert await _jobs_named(cluster, project) == Counter(dict.fromkeys(labels, 1))


async def test_two_concurrent_runs_submit_each_task_once(
    cluster: ClusterProfile, tmp_path: Path
) -> None:
    """Two `aspider run --wait` at once on one project: no task is submitted twice."""
    project = f"C{uuid.uuid4().hex[:8]}"
    server = XnatServer()
    generate_project(server, project, sessions=3, assessors_per_session=0, seed=4)
    with anyio.fail_after(240):
        async with serve_tcp(server) as url:
            settings = _settings(tmp_path, url, cluster, project)
            runs = [await _aspider(settings, project, "--wait", "--interval", "1") for _ in "ab"]
            codes = sorted([await p.wait() for p in runs])
            assessors = list(server.store.assessors_of(project))
    assert 0 in codes  # at least one ran to the end; a refused one exits 1
    labels = [a.label for a in assessors]
    assert len(labels) == 3
    assert {a.fields.get("procstatus") for a in assessors} == {"COMPLETE"}
    assert await _jobs_named(cluster, project) == Counter(dict.fromkeys(labels, 1))
