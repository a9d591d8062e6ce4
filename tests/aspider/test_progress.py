"""
Progress of a long `run --wait`, as a person sees it: one live display on a terminal (a real
pseudo-terminal of 80 columns), one line per sweep without one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.aspider.processes import (
    DEMO_PROCESSORS,
    clean_env,
    plain,
    run_aspider,
    run_in_terminal,
    xnat_over_tcp,
)
from xnat_client.sandbox import XnatServer, generate_project


def _server() -> XnatServer:
    server = XnatServer()
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=9)
    return server


def _env(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    return clean_env(
        tmp_path,
        ASPIDER_XNAT__URL=url,
        ASPIDER_XNAT__USER="admin",
        ASPIDER_XNAT__PASSWORD="admin",
        ASPIDER_PROCESSOR_PATHS=json.dumps([str(DEMO_PROCESSORS)]),
        ASPIDER_CLUSTER__WORK_ROOT=str(tmp_path / "work"),
        ASPIDER_LIMITS__MAX_QUEUED="1",
        **extra,
    )


def test_without_a_terminal_each_sweep_is_one_line(tmp_path: Path) -> None:
    """stderr of a --wait run piped: one timed `sweep N of P1` record a sweep, then the summary."""
    with xnat_over_tcp(_server()) as url:
        result = run_aspider(
            ["run", "P1", "--wait", "--interval", "0.2"], _env(tmp_path, url), tmp_path
        )
    assert result.returncode == 0, result.stderr
    records = result.stderr.splitlines()
    lines = [r.split(": ", 1)[1] for r in records if " INFO aspider.progress: sweep " in r]
    assert [int(line.split()[1]) for line in lines] == list(range(1, len(lines) + 1))
    assert len(lines) >= 3  # one job at a time: several sweeps
    assert all(" of P1: " in line and "queued" in line for line in lines)
    assert "next sweep in 1 s" in lines[0]
    assert "Sweep summary" in result.stdout


def test_on_a_terminal_one_live_display_covers_every_sweep(tmp_path: Path) -> None:
    """One display, redrawn: sweep number, tasks, jobs queued/running, the next sweep's time."""
    with xnat_over_tcp(_server()) as url:
        env = _env(tmp_path, url, COLUMNS="80", LINES="30")
        code, drawn = run_in_terminal(["run", "P1", "--wait", "--interval", "0.5"], env, tmp_path)
    assert code == 0, drawn
    text = plain(drawn)
    sweeps = {int(n) for n in re.findall(r"P1 - sweep (\d+) - \d+:\d\d:\d\d elapsed", text)}
    assert {1, 2, 3} <= sweeps
    assert re.search(r"jobs: \d+ queued, \d+ running; next sweep in 1 s", text)
    assert re.search(r"tasks: (\d+ [a-z ]+, )*\d+ done", text)
    assert "Sweep summary" in text
    assert not [line for line in text.splitlines() if len(line) > 80]
    assert "sweep 1 of P1:" not in text  # the per-sweep lines are for logs, not terminals
