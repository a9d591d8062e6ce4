"""
`aspider run` as a real process (`executor: slurm`, arrays on) SIGKILLed between a held
array's sbatch and its records in XNAT, and between the records and the release: the next run
adopts or releases each element, and every task runs exactly once (the jobs' own ledger).
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

from pbs import HELD_MARKER, array_of
from tests.conftest import ClusterProfile
from tests.engine.conftest import shell_processor
from tests.engine.test_faults import COUNTING_SCRIPT
from xnat_client.sandbox import XnatServer, generate_project, serve_tcp

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

SESSIONS = 4


def _records_job(scope: Scope) -> bool:
    """A PUT that records a job id on an assessor (its creation, or its status)."""
    if scope.get("type") != "http" or scope.get("method") != "PUT":
        return False
    query = parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True)
    return query.get("proc:genProcData/jobid", [""])[0] != ""


class HoldingServer(XnatServer):
    """
    Holds every job record (applied first, its answer never sent; or not applied at all),
    and says when all `expected` have come.
    """

    def __init__(self, apply: bool, expected: int) -> None:
        super().__init__()
        self.apply = apply
        self.hold = True
        self.expected = expected
        self.seen = 0
        self.all_held = anyio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hold and _records_job(scope):
            if self.apply:

                async def unanswered(message: Message) -> None:
                    """The write is made; its answer never leaves."""

                await super().__call__(scope, receive, unanswered)
            self.seen += 1
            if self.seen == self.expected:
                self.all_held.set()
            await anyio.sleep_forever()
        await super().__call__(scope, receive, send)


def _settings(tmp: Path, url: str, cluster: ClusterProfile, project: str) -> tuple[Path, Path]:
    folder = tmp / "processors"
    shell_processor(folder, "counting", COUNTING_SCRIPT)
    root = cluster.work_root / f"arrays-crash-{project}"
    path = tmp / "aspider.yaml"
    settings = {
        "processor_paths": [str(folder)],
        "projects": {project: {}},
        "xnat": {"url": url, "user": "admin"},
        "cluster": cluster.cluster_settings("slurm", root),
    }
    path.write_text(json.dumps(settings))
    return path, root


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASPIDER_")}
    env["ASPIDER_XNAT__PASSWORD"] = "admin"
    return env


async def _aspider(settings: Path, *args: str) -> Process:
    argv = [sys.executable, "-m", "aspider", "run", "--settings", str(settings), *args]
    return await anyio.open_process(argv, env=_env())


def _runs(root: Path) -> Counter[str]:
    log = root / "runs.log"
    return Counter(log.read_text().split()) if log.exists() else Counter()


def _markers(root: Path) -> dict[str, str]:
    return {m.parent.name: m.read_text().strip() for m in root.glob(f"*/{HELD_MARKER}")}


@pytest.mark.parametrize("applied", [False, True], ids=["before-record", "before-release"])
async def test_killed_in_a_held_arrays_steps_then_rerun_gives_each_task_one_run(
    cluster: ClusterProfile, tmp_path: Path, applied: bool
) -> None:
    """SIGKILL with the array held and its records not made (each element then adopted by
    its task) or made (then released by the next sweep): each task runs once, as its element."""
    project = f"A{uuid.uuid4().hex[:8]}"
    server = HoldingServer(apply=applied, expected=SESSIONS)
    generate_project(server, project, sessions=SESSIONS, assessors_per_session=0, seed=7)
    with anyio.fail_after(240):
        async with serve_tcp(server) as url:
            settings, root = _settings(tmp_path, url, cluster, project)
            first = await _aspider(settings, project)
            await server.all_held.wait()
            first.send_signal(signal.SIGKILL)
            await first.wait()
            held = _markers(root)
            assert len(held) == SESSIONS  # every element waits, held, with its marker
            assert len({array_of(job_id) for job_id in held.values()}) == 1  # one array
            recorded = [a.fields.get("jobid") for a in server.store.assessors_of(project)]
            assert sorted(j for j in recorded if j) == (sorted(held.values()) if applied else [])
            assert not _runs(root)
            server.hold = False
            second = await _aspider(settings, project, "--wait", "--interval", "1")
            assert await second.wait() == 0
            assessors = list(server.store.assessors_of(project))
    assert {a.fields.get("procstatus") for a in assessors} == {"COMPLETE"}
    assert {a.label: a.fields.get("jobid") for a in assessors} == held  # the same elements
    assert _runs(root) == Counter({a.label: 1 for a in assessors})
    assert not _markers(root)
