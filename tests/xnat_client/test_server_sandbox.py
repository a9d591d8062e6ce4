"""`aspider sandbox` serves a generated project on 127.0.0.1 until interrupted."""

from __future__ import annotations

import re
import signal
import sys

import anyio
import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_sandbox_serves_until_interrupted() -> None:
    """The command prints its URL and credentials, answers listings, and exits on SIGINT."""
    argv = [sys.executable, "-c", "from aspider.cli import main; main()"]
    argv += ["sandbox", "--port", "0", "--sessions", "3", "--seed", "1"]
    async with await anyio.open_process(argv) as process:
        assert process.stdout is not None
        with anyio.fail_after(30):
            printed = ""
            while "password" not in printed:
                printed += (await process.stdout.receive()).decode()
            url = re.search(r"http://127\.0\.0\.1:\d+", printed)
            assert url is not None
            async with httpx.AsyncClient(base_url=url.group(0), auth=("admin", "admin")) as client:
                response = await client.get("/data/projects/DEMO/experiments?format=json")
            process.send_signal(signal.SIGINT)
            await process.wait()
    assert response.json()["ResultSet"]["totalRecords"] == "3"
    assert "user: admin  password: admin" in printed
