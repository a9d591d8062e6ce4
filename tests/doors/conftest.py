"""
Fixtures for the doors' differential tests: one XNAT-compatible server in-process with two
projects, settings written to a file as a site writes them, and `aspider` in-process reaching
the server through its `Wiring`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner, Result

from aspider.cli import app
from aspider.run import Wiring
from tests.engine.conftest import shell_processor
from xnat_client.sandbox import XnatServer, generate_project

PROJECTS = ("PA", "PB")
QUICK = "'echo ok > \"$OUTDIR/out.txt\"'"
SLOW = "'sleep 60; echo ok > \"$OUTDIR/out.txt\"'"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> XnatServer:
    """Two projects of 3 sessions, one T1w scan each; credentials from the environment."""
    srv = XnatServer()
    for n, project in enumerate(PROJECTS):
        generate_project(
            srv, project, sessions=3, scans_per_session=1, assessors_per_session=0, seed=n + 1
        )
    monkeypatch.setenv("ASPIDER_XNAT__PASSWORD", "admin")
    monkeypatch.delenv("ASPIDER_SETTINGS", raising=False)
    monkeypatch.chdir(tmp_path)
    return srv


class Doors:
    """`aspider` in-process against the test's server, with the settings file it wrote."""

    def __init__(self, server: XnatServer, root: Path) -> None:
        self.server = server
        self.root = root
        self.settings = root / "aspider.yaml"
        self.wiring = Wiring(httpx.ASGITransport(app=server.app))

    def configure(self, **sections: Any) -> None:
        """Write the settings file: XNAT, the processors folder, the local executor, and more."""
        base: dict[str, Any] = {
            "xnat": {"url": "http://xnat.test", "user": "admin"},
            "processor_paths": [str(self.root / "procs")],
            "cluster": {"executor": "local", "work_root": str(self.root / "work")},
        }
        base.update(sections)
        self.settings.write_text(yaml.safe_dump(base))

    def processor(self, name: str, script: str = QUICK) -> None:
        shell_processor(self.root / "procs", name, script)

    def invoke(self, *args: str) -> Result:
        result = CliRunner().invoke(app, [*args, "--settings", str(self.settings)], obj=self.wiring)
        assert result.exit_code in (0, 1), result.output
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.invoke(*args, "--json").stdout)

    def sessions(self, project: str) -> list[str]:
        return sorted(s.label for s in self.server.store.sessions_of(project))

    def assessors(self, project: str) -> dict[str, str]:
        """label -> procstatus of every assessor of the project, as XNAT holds them."""
        return {
            a.label: a.fields.get("procstatus", "")
            for s in self.server.store.sessions_of(project)
            for a in s.assessors.values()
        }


@pytest.fixture
def doors(server: XnatServer, tmp_path: Path) -> Iterator[Doors]:
    return Doors(server, tmp_path)
