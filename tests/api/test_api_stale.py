"""
`Spider.stale` against the sandbox over real HTTP: a two-level pipeline completes on the local
executor, one session's T1 file is uploaded again with other content, and exactly that
session's result and its downstream are stale, each with why, as `status --stale` says.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import pytest
import yaml
from typer.testing import CliRunner

import aspider
from aspider._exceptions import ConfigError
from aspider.cli import app
from aspider.sync import Spider
from tests.aspider.processes import xnat_over_tcp
from tests.aspider.procs import write_two_steps
from xnat_client.sandbox import XnatServer, generate_project

PROJECT = "P1"


@dataclass(frozen=True)
class Site:
    """The sandbox over TCP, and a site's settings file for it (the password from outside)."""

    server: XnatServer
    url: str
    settings: Path

    def spider(self) -> Spider:
        return Spider.from_settings(self.settings, xnat={"password": "admin"})


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """Two sessions with a T1w scan each, and the up_v1 -> down_v1 pipeline configured."""
    for name in [k for k in os.environ if k.startswith("ASPIDER_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    server = XnatServer()
    generate_project(server, PROJECT, sessions=2, scans_per_session=1, assessors_per_session=0)
    procs = write_two_steps(tmp_path / "procs")
    with xnat_over_tcp(server) as url:
        settings = tmp_path / "aspider.yaml"
        written = {
            "xnat": {"url": url, "user": "admin"},
            "processor_paths": [str(procs)],
            "projects": {PROJECT: {}},
            "cluster": {"executor": "local", "work_root": str(tmp_path / "work")},
        }
        settings.write_text(yaml.safe_dump(written))
        yield Site(server, url, settings)


def _reupload_t1(site: Site, session_label: str) -> None:
    """The session's T1 file uploaded again, over XNAT's REST API, with other content."""
    (session,) = [s for s in site.server.store.sessions_of(PROJECT) if s.label == session_label]
    scan = next(s for s in session.scans.values() if "NIFTI" in s.resources)
    (name,) = scan.resources["NIFTI"].files
    path = f"/data/experiments/{session.id}/scans/{scan.id}/resources/NIFTI/files/{name}"
    with httpx.Client(base_url=site.url, auth=("admin", "admin")) as http:
        params = {"inbody": "true", "overwrite": "true"}
        http.put(path, params=params, content=b"\x1f\x8b" + b"other" * 100).raise_for_status()


@pytest.fixture
def changed(site: Site) -> str:
    """The pipeline complete on both sessions, nothing stale; then one's T1 changed: its label."""
    with site.spider() as spider:
        done = spider.sweep(PROJECT, wait=True, interval=0.2)
        assert done.ok, done
        assert set(spider.status(PROJECT).counts) == {"up_v1", "down_v1"}
        assert spider.stale(PROJECT) == []
    first = min(s.label for s in site.server.store.sessions_of(PROJECT))
    _reupload_t1(site, first)
    return first


def test_the_changed_session_s_result_and_its_downstream_are_stale_with_why(
    site: Site, changed: str
) -> None:
    """Exactly two results, upstream first, with their kinds and reasons, as `status --stale
    --json` lists them; to_dict() is JSON-ready."""
    with site.spider() as spider:
        found = spider.stale(PROJECT)
    assert [(s.proctype, s.session, s.kinds) for s in found] == [
        ("up_v1", changed, ("inputs",)),
        ("down_v1", changed, ("upstream",)),
    ]
    up, down = found
    assert "NIFTI changed" in up.reason
    assert f"upstream stale ({up.label})" in down.reason
    assert all(s.project == PROJECT and s.assessor_id for s in found)
    cli = CliRunner().invoke(
        app,
        ["status", PROJECT, "--stale", "--json", "--settings", str(site.settings)],
        env={"ASPIDER_XNAT__PASSWORD": "admin"},
    )
    assert cli.exit_code == 0, cli.output
    listed = json.loads(cli.stdout)["stale"]
    assert [(x["label"], x["kinds"], x["reason"]) for x in listed] == [
        (s.label, list(s.kinds), s.reason) for s in found
    ]
    assert json.loads(json.dumps(up.to_dict()))["kinds"] == ["inputs"]


def test_a_processor_narrows_the_answer_and_the_chain_is_still_judged(
    site: Site, changed: str
) -> None:
    """Asked for down_v1 alone (async face), its result is still stale through up_v1."""

    async def ask(processor: str) -> list[aspider.StaleView]:
        async with aspider.Spider.from_settings(site.settings, xnat={"password": "admin"}) as s:
            return await s.stale(PROJECT, processor)

    (down,) = anyio.run(ask, "down_v1")
    assert (down.proctype, down.session, down.kinds) == ("down_v1", changed, ("upstream",))
    (up,) = anyio.run(ask, "up")  # a name without its version, as everywhere
    assert up.proctype == "up_v1"
    with pytest.raises(ConfigError, match="no processor named nope"):
        anyio.run(ask, "nope")


def test_a_project_with_no_processor_is_told_so(site: Site) -> None:
    """Nothing to judge by: a ConfigError naming the fix, not an empty list."""
    settings = yaml.safe_load(site.settings.read_text())
    del settings["processor_paths"]
    site.settings.write_text(yaml.safe_dump(settings))
    with site.spider() as spider, pytest.raises(ConfigError, match="no processor configured"):
        spider.stale(PROJECT)
