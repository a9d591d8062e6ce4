"""Files that arrive short: recorded on the assessor as a failure, never COMPLETE, never lost."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

import anyio
import pytest

from aspider.plan import note_text, read_made_from
from aspider.processors import Processor
from aspider.run.backends import LocalBackend
from aspider.run.sweep import SweepOptions, SweepReport, sweep_project
from pbs import LocalTransport
from pbs._transport import PathLike
from tests.engine.conftest import shell_processor
from tests.engine.test_faults import COUNTING_SCRIPT
from xnat_client import Assessor, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio


class ShortWrites(LocalTransport):
    """A work root that loses the last byte of every file written (a full or flaky disk)."""

    async def upload(self, path: PathLike, chunks: AsyncIterable[bytes]) -> None:
        data = b"".join([chunk async for chunk in chunks])

        async def short() -> AsyncIterator[bytes]:
            yield data[:-1]

        await super().upload(path, short())


class ShortReads(LocalTransport):
    """A work root whose reads of job outputs stop one byte early."""

    async def download(self, path: PathLike) -> AsyncIterator[bytes]:
        data = b"".join([chunk async for chunk in super().download(path)])
        yield data[:-1] if "/OUTPUTS/" in str(path) else data


@pytest.fixture
def counting(tmp_path: Path) -> Processor:
    return shell_processor(tmp_path / "processors", "counting", COUNTING_SCRIPT)


async def _the_task(xnat: XnatClient) -> Assessor:
    (a,) = [
        a
        for s in (await xnat.project_snapshot("P1")).sessions
        for a in s.assessors
        if a.proctype == "counting_v1"
    ]
    return a


async def test_an_input_staged_short_is_a_recorded_failure_and_the_task_waits(
    server: XnatServer, xnat: XnatClient, counting: Processor, tmp_path: Path
) -> None:
    """The size check fails: NEED_TO_RUN with the reason in the note, left to a later sweep."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=2)
    async with ShortWrites() as transport:
        backend = LocalBackend(transport, str(tmp_path / "work"))
        report = await sweep_project(xnat, backend, "P1", [counting], SweepOptions())
    a = await _the_task(xnat)
    assert a.procstatus == "NEED_TO_RUN"
    assert "staging inputs failed" in a.note
    assert "expected" in a.note
    assert [label for label, _ in report.outcome.transient] == [a.label]
    assert report.outcome.failures == []
    assert report.session_errors == []


async def test_an_output_read_short_is_not_complete_and_completes_when_read_whole(
    server: XnatServer, xnat: XnatClient, counting: Processor, tmp_path: Path
) -> None:
    """XNAT's listing disagrees with the size sent: UPLOADING with the reason, then COMPLETE."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=2)
    root = str(tmp_path / "work")
    report: SweepReport | None = None
    async with ShortReads() as transport:
        backend = LocalBackend(transport, root)
        with anyio.fail_after(60):
            while report is None or not any(a.kind == "finalize" for a in report.plan.actions()):
                report = await sweep_project(xnat, backend, "P1", [counting], SweepOptions())
                await anyio.sleep(0.1)
    a = await _the_task(xnat)
    assert a.procstatus == "UPLOADING"
    assert "upload of outputs failed" in a.note
    assert "XNAT lists" in a.note
    assert report.session_errors == []
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, root)
        await sweep_project(xnat, backend, "P1", [counting], SweepOptions())
    a = await _the_task(xnat)
    assert (a.procstatus, note_text(a.note)) == ("COMPLETE", "")  # the records alone
    assert read_made_from(a.note) is not None
