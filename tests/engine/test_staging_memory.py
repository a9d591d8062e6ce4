"""Staging streams: a file many times larger than the memory it may use moves in chunks."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from aspider.run.tasks.staging import copy_file
from pbs import LocalTransport
from xnat_client import Credentials, FileEntry, ResourceRef, XnatClient

pytestmark = pytest.mark.anyio

BIG = 64 * 2**20

# The server runs in its own process, so that only the client's memory is traced here.
SERVE = """
import asyncio, sys
from xnat_client.sandbox import XnatServer, generate_project, serve_tcp

async def main():
    server = XnatServer()
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=1)
    session = next(server.store.sessions_of("P1"))
    scan = server.store.add_scan(session, "99", type="T1w")
    data = bytes(range(256)) * (int(sys.argv[1]) // 256)
    server.store.add_resource(scan.resources, "BIG", files={"big.bin": data})
    async with serve_tcp(server) as url:
        print(url, session.id, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


@pytest.fixture
def big_file_server() -> Iterator[tuple[str, str]]:
    argv = [sys.executable, "-c", SERVE, str(BIG)]
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        url, session_id = proc.stdout.readline().split()
        yield url, session_id
        proc.stdin.close()  # the server's cue to stop
        proc.wait(timeout=30)


Move = Callable[[XnatClient, LocalTransport, ResourceRef, Path], Awaitable[object]]


async def _peak_while(server: tuple[str, str], target: Path, move: Move) -> tuple[object, int]:
    """What `move` returned, and the client's peak traced memory while it moved BIG.bin."""
    url, session_id = server
    source = ResourceRef.scan(session_id, "99", "BIG")
    target.parent.mkdir()
    credentials = Credentials.password("admin", "admin")
    async with XnatClient(url, credentials=credentials) as xnat, LocalTransport() as transport:
        await xnat.list_files(source)  # log in and open the connection outside the measure
        tracemalloc.start()
        try:
            moved = await move(xnat, transport, source, target)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return moved, peak


async def test_a_64_mib_input_is_staged_in_a_few_mib_of_memory(
    big_file_server: tuple[str, str], tmp_path: Path
) -> None:
    async def copy(
        xnat: XnatClient, transport: LocalTransport, source: ResourceRef, target: Path
    ) -> int:
        return await copy_file(xnat, transport, source, "big.bin", str(target))

    target = tmp_path / "INPUTS" / "big.bin"
    moved, peak = await _peak_while(big_file_server, target, copy)
    assert moved == BIG
    assert target.stat().st_size == BIG
    assert target.read_bytes()[:512] == bytes(range(256)) * 2
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MiB while moving 64 MiB"


async def test_a_64_mib_resource_unzipped_as_it_streams_stays_in_a_few_mib(
    big_file_server: tuple[str, str], tmp_path: Path
) -> None:
    """One zip download of the resource: inflated and written as it comes, never held whole."""

    async def unzip(
        xnat: XnatClient, transport: LocalTransport, source: ResourceRef, target: Path
    ) -> list[str]:
        async def receive(entry: FileEntry, chunks: AsyncIterator[bytes]) -> None:
            assert entry.name == "big.bin"
            await transport.upload(str(target), chunks)

        return [e.name for e in await xnat.receive_zipped(source, receive)]

    target = tmp_path / "INPUTS" / "big.bin"
    names, peak = await _peak_while(big_file_server, target, unzip)
    assert names == ["big.bin"]
    assert target.stat().st_size == BIG
    assert target.read_bytes()[:512] == bytes(range(256)) * 2
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MiB while unzipping 64 MiB"
