"""xnatpy (PyPI `xnat`), unpatched, against the server: connect, walk, download, write, query."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conformance.conftest import run_client
from xnat_client.server import XnatServer, generate_project

pytestmark = pytest.mark.anyio


async def test_xnatpy_connects_walks_downloads_writes_and_queries(
    client_pythons: dict[str, Path], serve: Any, tmp_path: Path
) -> None:
    """xnatpy builds its model from /xapi/schemas and sees the archive as the store holds it."""
    server = XnatServer()
    generate_project(server, "DEMO", sessions=4, seed=3)
    work = tmp_path / "work"
    work.mkdir()
    async with serve(server) as served:
        seen = await run_client(
            client_pythons["xnatpy"], "xnatpy_walk.py", served, "admin", "admin", "DEMO", str(work)
        )
    demo = server.store.projects["DEMO"]
    assert seen["projects"] == ["DEMO"]
    assert seen["subjects"] == sorted(s.label for s in demo.subjects.values())
    print(seen)
