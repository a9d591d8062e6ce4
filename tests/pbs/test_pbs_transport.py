"""The transport contract, run against LocalTransport and SshTransport alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from pbs import (
    CommandFailed,
    FileMissing,
    FileStat,
    LocalTransport,
    SshTransport,
    Transport,
    TransportClosed,
)
from tests.conftest import ClusterProfile
from tests.pbs.conftest import local_transport, ssh_settings

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

HOSTILE_ARGS = ["a b", "x;touch {marker}", "$(touch {marker})", "`touch {marker}`", "'\"\\", "é名"]


async def test_run_returns_status_and_output(transport: Transport) -> None:
    """A command's exit status, stdout and stderr come back separately."""
    with anyio.fail_after(30):
        result = await transport.run(["sh", "-c", "echo out; echo err >&2; exit 7"])
    assert (result.exit_status, result.stdout, result.stderr) == (7, "out\n", "err\n")


async def test_run_feeds_stdin(transport: Transport) -> None:
    """Bytes given as stdin reach the command unchanged."""
    with anyio.fail_after(30):
        result = await transport.run(["cat"], stdin=b"line 1\nline \xc3\xa9\n")
    assert result.stdout == "line 1\nline é\n"


async def test_check_raises_with_context(transport: Transport) -> None:
    """check=True turns a non-zero exit into CommandFailed carrying command, status and output."""
    with anyio.fail_after(30), pytest.raises(CommandFailed) as caught:
        await transport.run(["sh", "-c", "echo nope >&2; exit 4"], check=True)
    assert (caught.value.exit_status, caught.value.stderr) == (4, "nope\n")
    assert caught.value.command[0] == "sh"


async def test_hostile_arguments_arrive_verbatim(transport: Transport, tmp_path: Path) -> None:
    """Arguments with spaces, quotes, `;`, `$()` and backticks are data: nothing runs."""
    marker = tmp_path / "pwned"
    args = [arg.format(marker=marker) for arg in HOSTILE_ARGS]
    with anyio.fail_after(30):
        result = await transport.run(["printf", "%s\\n", *args])
    assert result.stdout.splitlines() == args
    assert not marker.exists()


async def test_hiding_variables_are_unset(cluster: ClusterProfile) -> None:
    """PBS_QSTAT_NO_COMPLETE / PBS_QSTAT_EXECONLY never reach a command, even if set."""
    env = {"PBS_QSTAT_NO_COMPLETE": "1", "PBS_QSTAT_EXECONLY": "1", "OTHER": "kept"}
    async with LocalTransport(env=env) as transport:
        result = await transport.run(["env"])
    names = {line.split("=", 1)[0] for line in result.stdout.splitlines()}
    assert "OTHER" in names
    assert not names & {"PBS_QSTAT_NO_COMPLETE", "PBS_QSTAT_EXECONLY"}


async def test_withheld_variables_never_reach_a_local_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Variables under a withheld prefix stay in the caller; the rest are inherited."""
    monkeypatch.setenv("ASPIDER_XNAT__PASSWORD", "not-for-qsub")
    monkeypatch.setenv("LAB_PATH_HINT", "kept")
    async with LocalTransport(withhold=("ASPIDER_",)) as transport:
        result = await transport.run(["env"])
    names = {line.split("=", 1)[0] for line in result.stdout.splitlines()}
    assert "LAB_PATH_HINT" in names
    assert "not-for-qsub" not in result.stdout
    assert not any(name.startswith("ASPIDER_") for name in names)


async def _chunks() -> AsyncIterator[bytes]:
    for index in range(50):
        yield bytes([index]) * 10_000


async def test_file_operations(transport: Transport, job_root: Path) -> None:
    """Write, read, stream up and down, list, stat, rename and remove behave alike."""
    base = job_root / "files"
    with anyio.fail_after(60):
        await transport.make_dirs(base / "a" / "b")
        await transport.make_dirs(base / "a" / "b")  # exists: no error
        await transport.write_bytes(base / "a" / "small", b"hello")
        await transport.upload(base / "a" / "big.part", _chunks())
        await transport.rename(base / "a" / "big.part", base / "a" / "big")
        downloaded = b"".join([chunk async for chunk in transport.download(base / "a" / "big")])
        assert downloaded == b"".join([bytes([i]) * 10_000 for i in range(50)])
        assert await transport.read_bytes(base / "a" / "small") == b"hello"
        assert await transport.list_dir(base / "a") == ["b", "big", "small"]
        small = await transport.stat(base / "a" / "small")
        assert isinstance(small, FileStat)
        assert (small.size, small.is_dir) == (5, False)
        assert (await transport.stat(base / "a" / "b")).is_dir  # type: ignore[union-attr]
        assert await transport.stat(base / "missing") is None
        await transport.remove(base / "a" / "small")
        await transport.remove(base / "a")
        await transport.remove(base / "a")  # gone: no error
        assert await transport.list_dir(base) == []


async def test_rename_replaces_target(transport: Transport, job_root: Path) -> None:
    """rename replaces an existing target (the atomic-publish idiom)."""
    with anyio.fail_after(30):
        await transport.write_bytes(job_root / "new", b"new")
        await transport.write_bytes(job_root / "old", b"old")
        await transport.rename(job_root / "new", job_root / "old")
        assert await transport.read_bytes(job_root / "old") == b"new"
        assert await transport.stat(job_root / "new") is None


async def test_missing_file_is_file_missing(transport: Transport, job_root: Path) -> None:
    """Reading or listing a missing path raises FileMissing naming the path."""
    with anyio.fail_after(30):
        with pytest.raises(FileMissing) as caught:
            await transport.read_bytes(job_root / "nope")
        assert caught.value.path == str(job_root / "nope")
        with pytest.raises(FileMissing):
            await transport.list_dir(job_root / "nope")


async def test_round_trips_are_counted(transport: Transport, job_root: Path) -> None:
    """Each command and each file operation counts as one round trip."""
    before = transport.round_trips
    with anyio.fail_after(30):
        await transport.run(["true"])
        await transport.stat(job_root)
        await transport.write_bytes(job_root / "x", b"x")
    assert transport.round_trips - before == 3


async def test_concurrent_commands_share_the_channel_limit(transport: Transport) -> None:
    """Thirty concurrent commands all succeed (the limiter queues them below MaxSessions)."""
    results: list[int] = []

    async def one(index: int) -> None:
        result = await transport.run(["sh", "-c", f"sleep 0.2; echo {index}"])
        results.append(int(result.stdout))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for index in range(30):
                group.start_soon(one, index)
    assert sorted(results) == list(range(30))


@pytest.mark.parametrize("kind", ["local", "ssh"])
async def test_use_outside_lifecycle_is_refused(kind: str, cluster: ClusterProfile) -> None:
    """A transport refuses work before `async with` and after `aclose()`."""
    transport: LocalTransport | SshTransport = (
        local_transport(cluster) if kind == "local" else SshTransport(ssh_settings(cluster))
    )
    with pytest.raises(TransportClosed, match="not open"):
        await transport.run(["true"])
    with anyio.fail_after(30):
        async with transport:
            await transport.run(["true"])
    with pytest.raises(TransportClosed, match="after aclose"):
        await transport.run(["true"])
    with pytest.raises(TransportClosed):
        await transport.stat("/")
