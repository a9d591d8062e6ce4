"""
Text logs written to a file or a pipe (a cron job's `2> log`): one line a record, never wrapped,
every line starting with an ISO 8601 time and its offset.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.aspider.processes import DEMO_PROCESSORS, clean_env, run_aspider, xnat_over_tcp
from xnat_client.sandbox import XnatServer, generate_project

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d (DEBUG|INFO|WARNING|ERROR) \S+: ")
LONG = "P1_" + "a" * 70  # a session label longer than a terminal is wide


def test_a_logged_run_has_whole_lines_with_iso_times(tmp_path: Path) -> None:
    """XNAT answers 503 twice (retry warnings), -v logs every action: each line whole, ISO time."""
    server = XnatServer()
    generate_project(server, "P1", sessions=2, assessors_per_session=0, seed=5)
    session = next(iter(server.store.sessions_of("P1")))
    session.label = LONG
    server.faults.path_pattern = "/data/experiments"
    server.faults.inject("error", 2, status=503)
    env = clean_env(
        tmp_path,
        ASPIDER_PROCESSOR_PATHS=json.dumps([str(DEMO_PROCESSORS)]),
        ASPIDER_CLUSTER__WORK_ROOT=str(tmp_path / "work"),
        ASPIDER_XNAT__USER="admin",
        ASPIDER_XNAT__PASSWORD="admin",
    )
    with xnat_over_tcp(server) as url:
        env["ASPIDER_XNAT__URL"] = url
        result = run_aspider(["run", "P1", "-v", "--wait", "--interval", "0.2"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any("retry" in line for line in lines)
    assert [line for line in lines if not ISO.match(line)] == []
    assert any(LONG in line for line in lines)  # the label whole, on the line of its record
