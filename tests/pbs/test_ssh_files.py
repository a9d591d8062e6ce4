"""
SshTransport's files over the real OpenSSH server: whole and exact at every size, consistent
when the file changes under the read, and no task left behind when a read or a write is
cancelled half-way (aiohttp cancels the task streaming an upload's body when XNAT answers 5xx
before the body is sent).

The SFTP server is held still with SIGSTOP (the loopback cluster runs on this machine), so
a request is certainly in flight when the cancellation comes.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from pbs import SshTransport
from pbs._transport import CHUNK_SIZE
from tests.conftest import ClusterProfile
from tests.pbs.conftest import ssh_settings

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

OPENSSH_BLOCK = 261120  # the largest read or write OpenSSH's sftp-server answers in one go
SIZES = [
    0,
    1,
    OPENSSH_BLOCK - 1,
    OPENSSH_BLOCK,
    OPENSSH_BLOCK + 1,
    CHUNK_SIZE,
    CHUNK_SIZE + 10,
    2 * OPENSSH_BLOCK,
    5 * 1024 * 1024 + 3,
]


def _content(size: int) -> bytes:
    """Bytes that differ at every block boundary, so a misplaced block shows."""
    pattern = bytes(range(251))  # a prime length: no block size is a multiple of it
    return (pattern * (size // len(pattern) + 1))[:size]


@contextmanager
def _loop_problems() -> Iterator[list[dict[str, Any]]]:
    """What the event loop reports to its exception handler ("Task exception was never ...")."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    problems: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: problems.append(context))
    try:
        yield problems
        gc.collect()  # a task nobody awaited reports its exception when it is collected
    finally:
        loop.set_exception_handler(previous)


def _messages(problems: list[dict[str, Any]]) -> list[str]:
    return [f"{p.get('message')}: {p.get('exception')!r}" for p in problems]


def _process_holding(path: Path) -> int:
    """The one process that has `path` open: the SFTP server of our session."""
    holders = set()
    for fds in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) == str(path) for fd in fds.iterdir()):
                holders.add(int(fds.parent.name))
        except OSError:  # gone, or not ours to look at
            continue
    assert len(holders) == 1, f"processes holding {path}: {holders}"
    return holders.pop()


@contextmanager
def _stopped(pid: int) -> Iterator[None]:
    """The process stopped for the block: what we ask of it waits until it goes on."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


async def _collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


@pytest.fixture
async def ssh(cluster: ClusterProfile) -> AsyncIterator[SshTransport]:
    """An open SshTransport to the loopback cluster."""
    transport = SshTransport(ssh_settings(cluster))
    with anyio.fail_after(30):
        await transport.__aenter__()
    try:
        yield transport
    finally:
        await transport.aclose()


async def _cancelled_mid_request(
    path: Path, work: Callable[[anyio.Event], Awaitable[None]]
) -> tuple[bool, list[str]]:
    """
    Run `work` until it has `path` open and waits for its go; stop the SFTP server, give the
    go, and once the requests `work` then makes are out (unanswered), cancel it.

    Returns whether the cancellation caught `work` before it was done, and the tasks left alive
    beside it while it waits for the server to go on (to close the file), as text: a task held
    here would not report an exception nobody retrieved.
    """
    go = anyio.Event()
    scope = anyio.CancelScope()

    async def run() -> None:
        with scope:
            await work(go)

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        await anyio.wait_all_tasks_blocked()
        before = asyncio.all_tasks()  # the SFTP session's own task among them
        with _stopped(_process_holding(path)):
            go.set()
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
            await anyio.wait_all_tasks_blocked()
            left = [repr(task.get_coro()) for task in asyncio.all_tasks() - before]
    return scope.cancelled_caught, left


@pytest.mark.parametrize("size", SIZES)
async def test_files_round_trip_whole_at_every_size(
    ssh: SshTransport, job_root: Path, size: int
) -> None:
    """write_bytes, upload, read_bytes and download move every byte, in order, at any size."""
    content = _content(size)
    with anyio.fail_after(60), _loop_problems() as problems:
        await ssh.write_bytes(str(job_root / "written"), content)
        pieces = [content[i : i + 100_000] for i in range(0, size, 100_000)]

        async def chunks() -> AsyncIterator[bytes]:
            for piece in pieces:
                yield piece

        await ssh.upload(str(job_root / "uploaded"), chunks())
        read = await ssh.read_bytes(str(job_root / "written"))
        downloaded = await _collect(ssh.download(str(job_root / "uploaded")))
    assert (job_root / "written").read_bytes() == content
    assert (job_root / "uploaded").read_bytes() == content
    assert read == content
    assert downloaded == content
    assert _messages(problems) == []


@pytest.mark.parametrize(
    ("size", "surely_in_flight"),
    [
        # The end of a small output: asyncssh's read of it crossed the end of the file, and its
        # tasks left behind met EOF (a reader that took it all at once is not caught at all).
        pytest.param(CHUNK_SIZE + 10, False, id="small"),
        pytest.param(20 * 1024 * 1024 + 10, True, id="large"),
    ],
)
async def test_download_cancelled_mid_read_leaves_no_task_behind(
    ssh: SshTransport, job_root: Path, size: int, surely_in_flight: bool
) -> None:
    """A download cancelled while its read is in flight leaves no task, and no unread error."""
    path = job_root / "output.bin"
    content = _content(size)
    path.write_bytes(content)
    first: list[bytes] = []

    async def download(go: anyio.Event) -> None:
        chunks = ssh.download(str(path))
        first.append(await anext(chunks))
        await go.wait()
        async for _ in chunks:
            pass

    with anyio.fail_after(60), _loop_problems() as problems:
        cancelled, left = await _cancelled_mid_request(path, download)
        again = await ssh.read_bytes(str(path))  # the late answers are in before this one's
    assert _messages(problems) == []
    assert left == []
    assert cancelled or not surely_in_flight
    assert content[: len(first[0])] == first[0]
    assert content == again


async def test_upload_cancelled_mid_write_leaves_no_task_behind(
    ssh: SshTransport, job_root: Path
) -> None:
    """An upload cancelled while a write is in flight leaves no task, and no unread error."""
    path = job_root / "input.bin"

    async def upload(go: anyio.Event) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            await go.wait()
            yield _content(3 * OPENSSH_BLOCK)  # more than one request's worth, as one chunk

        await ssh.upload(str(path), chunks())

    with anyio.fail_after(60), _loop_problems() as problems:
        cancelled, left = await _cancelled_mid_request(path, upload)
        found = await ssh.stat(str(path))
    assert _messages(problems) == []
    assert left == []
    assert cancelled
    assert found is not None


@pytest.mark.parametrize("new_size", [0, 1000, 3 * 1024 * 1024])
async def test_download_of_a_file_truncated_under_it_is_a_prefix(
    ssh: SshTransport, job_root: Path, new_size: int
) -> None:
    """A file cut below its size at opening while it is read: its start arrives, with no gap."""
    path = job_root / "job.log"
    content = _content(8 * 1024 * 1024)
    path.write_bytes(content)
    with anyio.fail_after(60), _loop_problems() as problems:
        chunks = ssh.download(str(path))
        first = await anext(chunks)
        os.truncate(path, new_size)
        rest = await _collect(chunks)
    got = first + rest
    assert content[: len(got)] == got
    assert len(first) <= len(got) < len(content)
    assert _messages(problems) == []


async def test_download_of_a_file_growing_under_it_reads_on_to_its_end(
    ssh: SshTransport, job_root: Path
) -> None:
    """A file appended to while it is read: at least what it held at the start, then its end."""
    path = job_root / "job.log"
    content = _content(6 * 1024 * 1024)
    more = b"one more line\n" * 1000
    path.write_bytes(content)
    with anyio.fail_after(60), _loop_problems() as problems:
        chunks = ssh.download(str(path))
        first = await anext(chunks)
        with path.open("ab") as log:
            log.write(more)
        rest = await _collect(chunks)
    got = first + rest
    assert (content + more)[: len(got)] == got
    assert len(got) >= len(content)
    assert _messages(problems) == []
