"""`aspider report PROJ --html FILE`: the status page from XNAT as it is, for cron users."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from aspider.cli import app
from aspider.run.wiring import Wiring
from xnat_client.sandbox import XnatServer, generate_project

DEMO = Path(__file__).resolve().parents[2] / "aspider" / "demo" / "processors"
HOSTILE_NOTE = 'job failed: <script>alert("x")</script> & more'


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> XnatServer:
    """Six sessions; two imgstats tasks, one COMPLETE, one failed with markup in its reason."""
    srv = XnatServer()
    generate_project(srv, "DEMO", sessions=6, assessors_per_session=0, seed=1)
    first, second = sorted(srv.store.sessions_of("DEMO"), key=lambda s: s.label)[:2]
    srv.store.add_assessor(first, "A-ok", proctype="imgstats_v1", procstatus="COMPLETE")
    srv.store.add_assessor(
        second, "A-bad", proctype="imgstats_v1", procstatus="JOB_FAILED", note=HOSTILE_NOTE
    )
    monkeypatch.setenv("ASPIDER_XNAT__URL", "http://xnat.test")
    monkeypatch.setenv("ASPIDER_XNAT__USER", "admin")
    monkeypatch.setenv("ASPIDER_XNAT__PASSWORD", "admin")
    monkeypatch.setenv("ASPIDER_PROCESSOR_PATHS", json.dumps([str(DEMO)]))
    monkeypatch.setenv("ASPIDER_PROJECTS", json.dumps({"DEMO": {}}))
    monkeypatch.delenv("ASPIDER_SETTINGS", raising=False)
    monkeypatch.chdir(tmp_path)
    return srv


def test_report_writes_the_page_with_escaped_reasons(server: XnatServer, tmp_path: Path) -> None:
    """The file has the matrix and the failure's reason as text, never as markup."""
    out = tmp_path / "status.html"
    wiring = Wiring(httpx.ASGITransport(app=server.app))
    result = CliRunner().invoke(app, ["report", "DEMO", "--html", str(out)], obj=wiring)
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert '<table class="matrix">' in page
    assert "imgstats_v1" in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in page
    assert "<script>" not in page
    assert 'href="http://xnat.test/data/experiments/' in page
    assert '<svg class="chart-completed"' in page


def test_report_without_html_prints_the_status_json(server: XnatServer) -> None:
    """Counts by processor and status, and the failing task with its reason."""
    wiring = Wiring(httpx.ASGITransport(app=server.app))
    result = CliRunner().invoke(app, ["report", "DEMO"], obj=wiring)
    assert result.exit_code == 0, result.output
    (project,) = json.loads(result.output)["projects"]
    assert project["matrix"] == {"imgstats_v1": {"COMPLETE": 1, "JOB_FAILED": 1}}
    assert [t["reason"] for t in project["attention"]] == [HOSTILE_NOTE]
    assert project["polled"] is False
