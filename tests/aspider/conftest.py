"""
Shared by the CLI tests: the XNAT-compatible server in-process, reached by `aspider` commands
through the `Wiring` passed as typer's context object, and settings from the environment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from aspider.run.wiring import Wiring
from xnat_client.sandbox import XnatServer, generate_project

EXAMPLES = str(Path(__file__).parents[2] / "examples" / "processors")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> XnatServer:
    """A synthetic 6-session project served in-process; settings from the environment."""
    srv = XnatServer()
    generate_project(srv, "DEMO", sessions=6, seed=1)
    monkeypatch.setenv("ASPIDER_XNAT__URL", "http://xnat.test")
    monkeypatch.setenv("ASPIDER_XNAT__USER", "admin")
    monkeypatch.setenv("ASPIDER_XNAT__PASSWORD", "admin")
    monkeypatch.setenv("ASPIDER_PROCESSOR_PATHS", json.dumps([EXAMPLES]))
    monkeypatch.delenv("ASPIDER_SETTINGS", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no aspider.yaml here
    return srv


class _Runner:
    """`aspider` in-process; commands reach the current test's server through their `Wiring`."""

    wiring = Wiring()

    def invoke(self, *args: Any, **kwargs: Any) -> Result:
        return CliRunner().invoke(*args, obj=self.wiring, **kwargs)


runner = _Runner()


@pytest.fixture(autouse=True)
def _wired(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that use `server` reach it in-process; the others reach nothing."""
    srv = request.getfixturevalue("server") if "server" in request.fixturenames else None
    runner.wiring = Wiring(httpx.ASGITransport(app=srv.app)) if srv is not None else Wiring()
    yield
    runner.wiring = Wiring()


def use_demo_processors(monkeypatch: pytest.MonkeyPatch, work_root: Path) -> None:
    """Settings for `run` with the demo processors and the local executor in `work_root`."""
    demo = Path(__file__).parents[2] / "aspider" / "demo" / "processors"
    monkeypatch.setenv("ASPIDER_PROCESSOR_PATHS", json.dumps([str(demo)]))
    monkeypatch.setenv("ASPIDER_CLUSTER__WORK_ROOT", str(work_root))


def first_session(srv: XnatServer) -> str:
    return min(s.label for s in srv.store.sessions_of("DEMO"))
