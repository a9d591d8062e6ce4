"""
The conformance suite: pyxnat, xnatpy and DAX, each in its own venv made by
tests/tools/client-venvs, run as separate processes against the server over real TCP, over
plain HTTP and over HTTPS with a certificate they verify.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from xnat_client.sandbox import XnatServer, make_tls_identity, serve_tcp

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = Path(__file__).parent / "clients"
VENVS_SCRIPT = ROOT / "tests" / "tools" / "client-venvs"
CLIENT_TIMEOUT = 120.0


@pytest.fixture(scope="session")
def client_pythons() -> dict[str, Path]:
    """The python of each client's venv, made (or reused) by the project's script."""
    env = {**os.environ, "PYTHON": getattr(sys, "_base_executable", sys.executable)}
    done = subprocess.run(
        [str(VENVS_SCRIPT)], capture_output=True, text=True, env=env, timeout=900, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"tests/tools/client-venvs failed:\n{done.stderr[-4000:]}")
    found = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    return {name: Path(path) for name, path in found.items()}


@dataclass(frozen=True)
class Served:
    """A running server as a client process reaches it."""

    url: str
    server: XnatServer
    ca_file: Path | None

    def env(self) -> dict[str, str]:
        """The environment of a client process: requests trusts the sandbox's CA, and only it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ASPIDER_", "REQUESTS_"))}
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        if self.ca_file is not None:
            env["REQUESTS_CA_BUNDLE"] = str(self.ca_file)
        return env


@pytest.fixture(params=["http", "https"])
def scheme(request: pytest.FixtureRequest) -> str:
    """Every client runs over plain HTTP and over HTTPS."""
    return str(request.param)


@pytest.fixture
def serve(scheme: str, tmp_path: Path) -> Any:
    """`async with serve(server) as served:` runs the server over TCP for one client run."""

    @asynccontextmanager
    async def start(server: XnatServer) -> AsyncIterator[Served]:
        tls = make_tls_identity(tmp_path / "tls") if scheme == "https" else None
        async with serve_tcp(server, ssl=None if tls is None else tls.context) as url:
            yield Served(url, server, None if tls is None else tls.ca_file)

    return start


async def run_client(python: Path, script: str, served: Served, *args: str) -> Any:
    """Run one client script with its venv's python; its JSON output, or a failure with stderr."""
    argv = [str(python), str(CLIENTS / script), served.url, *args]
    with anyio.fail_after(CLIENT_TIMEOUT):
        done = await anyio.run_process(argv, env=served.env(), check=False)
    stderr = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        asked = "\n".join(
            f"{r.method} {r.path}?{r.query} -> {r.status}" for r in served.server.requests[-12:]
        )
        pytest.fail(
            f"{script} exited {done.returncode}:\n{stderr[-5000:]}\nlast requests:\n{asked}"
        )
    return json.loads(done.stdout)


__all__ = ["Served", "run_client"]
