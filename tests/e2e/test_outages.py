"""Outages of the cluster's sshd, for real: no task that did not fail is ever failed."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

from aspider.processors import Processor
from aspider.run.backends import SchedulerBackend
from aspider.run.sweep import (
    SweepOptions,
    SweepReport,
    SweepsFailed,
    sweep_project,
    sweep_until_done,
)
from pbs import PbsClient, SshSettings, SshTransport, Transport
from tests.conftest import ClusterProfile
from tests.e2e.sshd import Sshd
from tests.engine.conftest import shell_processor
from tests.engine.test_faults import COUNTING_SCRIPT
from xnat_client import Assessor, Session, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


@pytest.fixture
def sshd(cluster: ClusterProfile) -> Iterator[Sshd]:
    """The cluster's sshd, started again after the test whatever happened."""
    daemon = Sshd(cluster)
    yield daemon
    if not daemon.accepting():
        daemon.start()


@pytest.fixture
def counting(tmp_path: Path) -> Processor:
    return shell_processor(tmp_path / "processors", "counting", COUNTING_SCRIPT)


def _impatient(cluster: ClusterProfile) -> SshSettings:
    """Gives up reconnecting within a second or two, so an outage outlasts its budget."""
    return cluster.ssh_settings().model_copy(
        update={"reconnect_attempts": 2, "reconnect_backoff": 0.1, "connect_timeout": 2.0}
    )


def _ours(sessions: Sequence[Session], proctype: str = "counting_v1") -> list[Assessor]:
    return [a for s in sessions for a in s.assessors if a.proctype == proctype]


def _runs(root: Path) -> Counter[str]:
    log = root / "runs.log"
    return Counter(log.read_text().split()) if log.exists() else Counter()


class StopsSshdAtQsub:
    """The real SSH transport; sshd is killed the moment the first qsub is about to go out."""

    def __init__(self, inner: SshTransport, sshd: Sshd) -> None:
        self._inner = inner
        self._sshd = sshd
        self.stopped = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def run(self, argv: Sequence[str], **kwargs: Any) -> Any:
        if "qsub" in argv and not self.stopped:
            self.stopped = True
            self._sshd.stop()
            with anyio.fail_after(10):  # until the client has seen its connection die
                while (c := self._inner._connection) is not None and not c.is_closed():  # noqa: ASYNC110 asyncssh offers no event for it
                    await anyio.sleep(0.05)
        return await self._inner.run(argv, **kwargs)


async def test_sshd_down_at_submission_leaves_tasks_to_run_then_each_runs_once(
    cluster: ClusterProfile,
    sshd: Sshd,
    server: XnatServer,
    xnat: XnatClient,
    counting: Processor,
) -> None:
    """qsub never ran: NEED_TO_RUN with the reason, not JOB_FAILED; a later sweep submits once."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=2)
    root = cluster.work_root / f"e2e-{uuid.uuid4().hex[:8]}"
    async with SshTransport(_impatient(cluster)) as inner:
        transport: Transport = StopsSshdAtQsub(inner, sshd)  # type: ignore[assignment]
        backend = SchedulerBackend(PbsClient(transport, dialect="torque"), str(root))
        with anyio.fail_after(120):
            report = await sweep_project(xnat, backend, "P1", [counting], SweepOptions())
    (a,) = _ours((await xnat.project_snapshot("P1")).sessions)
    assert a.procstatus == "NEED_TO_RUN"
    assert "did not reach the scheduler" in a.note
    assert report.outcome.failures == []
    assert [label for label, _ in report.outcome.transient] == [a.label]
    sshd.start()
    async with SshTransport(cluster.ssh_settings()) as transport:
        backend = SchedulerBackend(PbsClient(transport, dialect="torque"), str(root))
        with anyio.fail_after(180):
            await sweep_until_done(xnat, backend, "P1", [counting], interval=1, max_sweeps=90)
    (a,) = _ours((await xnat.project_snapshot("P1")).sessions)
    assert a.procstatus == "COMPLETE", a.note
    assert _runs(root) == Counter({a.label: 1})


async def test_sshd_down_while_following_ends_the_run_clearly_and_fails_no_job(
    cluster: ClusterProfile,
    sshd: Sshd,
    server: XnatServer,
    xnat: XnatClient,
    tmp_path: Path,
) -> None:
    """Following jobs through an outage longer than the budget: a clear error, jobs untouched."""
    slow = shell_processor(
        tmp_path / "processors", "slow", "'sleep 4; echo done > $OUTDIR/out.txt'"
    )
    generate_project(server, "P1", sessions=2, assessors_per_session=0, seed=2)
    root = cluster.work_root / f"e2e-{uuid.uuid4().hex[:8]}"
    options = SweepOptions(failed_sweeps_in_a_row=2)
    async with SshTransport(_impatient(cluster)) as transport:
        backend = SchedulerBackend(PbsClient(transport, dialect="torque"), str(root))
        with anyio.fail_after(120):
            first = await sweep_project(xnat, backend, "P1", [slow], options)
            assert sum(n for (_, w), n in first.outcome.counts.items() if w == "submitted") == 2
            sshd.stop()
            with pytest.raises(SweepsFailed) as raised:
                await sweep_until_done(
                    xnat, backend, "P1", [slow], options, interval=0.2, max_sweeps=None
                )
    assert "cluster" in str(raised.value)
    during = _ours((await xnat.project_snapshot("P1")).sessions, "slow_v1")
    assert {a.procstatus for a in during} == {"JOB_RUNNING"}
    sshd.start()
    async with SshTransport(cluster.ssh_settings()) as transport:
        backend = SchedulerBackend(PbsClient(transport, dialect="torque"), str(root))
        with anyio.fail_after(180):
            await sweep_until_done(xnat, backend, "P1", [slow], interval=1, max_sweeps=90)
    after = _ours((await xnat.project_snapshot("P1")).sessions, "slow_v1")
    assert {a.procstatus for a in after} == {"COMPLETE"}, [a.note for a in after]


async def test_a_wait_run_rides_out_a_short_outage_and_counts_every_sweep(
    cluster: ClusterProfile,
    sshd: Sshd,
    server: XnatServer,
    xnat: XnatClient,
    counting: Processor,
) -> None:
    """A failed sweep inside --wait is tried again; the reports of the sweeps are kept."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=2)
    root = cluster.work_root / f"e2e-{uuid.uuid4().hex[:8]}"
    reports: list[SweepReport] = []
    failed_once = anyio.Event()

    class _OnRetry(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "trying again" in record.getMessage():
                failed_once.set()

    logging.getLogger("aspider.run.sweep").addHandler(_OnRetry())

    async def outage() -> None:
        """Once the task is submitted, cut the cluster off until a sweep has failed."""
        while not any(a.jobid for a in _ours((await xnat.project_snapshot("P1")).sessions)):  # noqa: ASYNC110 XNAT's state
            await anyio.sleep(0.1)
        sshd.stop()
        await failed_once.wait()
        sshd.start()

    async with SshTransport(_impatient(cluster)) as transport:
        backend = SchedulerBackend(PbsClient(transport, dialect="torque"), str(root))
        with anyio.fail_after(180):
            async with anyio.create_task_group() as group:
                group.start_soon(outage)
                reports += await sweep_until_done(
                    xnat, backend, "P1", [counting], interval=0.5, max_sweeps=200
                )
    (a,) = _ours((await xnat.project_snapshot("P1")).sessions)
    assert a.procstatus == "COMPLETE", a.note
    assert _runs(root) == Counter({a.label: 1})
    assert sum(r.outcome.counts[("counting_v1", "submitted")] for r in reports) == 1
    assert sum(r.outcome.counts[("counting_v1", "completed")] for r in reports) == 1
