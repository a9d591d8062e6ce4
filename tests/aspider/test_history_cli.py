"""`aspider status PROJ --history LABEL` as a person runs it: 80 columns, one request, JSON."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.aspider.processes import DEMO_PROCESSORS, clean_env, run_aspider, xnat_over_tcp
from xnat_client.sandbox import XnatServer, generate_project


@pytest.fixture
def server() -> XnatServer:
    srv = XnatServer()
    generate_project(srv, "P2", sessions=1, assessors_per_session=0, seed=3)
    return srv


@pytest.fixture
def env(server: XnatServer, tmp_path: Path) -> Iterator[dict[str, str]]:
    with xnat_over_tcp(server) as url:
        yield clean_env(
            tmp_path,
            ASPIDER_XNAT__URL=url,
            ASPIDER_XNAT__USER="admin",
            ASPIDER_XNAT__PASSWORD="admin",
            ASPIDER_PROCESSOR_PATHS=json.dumps([str(DEMO_PROCESSORS)]),
            ASPIDER_CLUSTER__WORK_ROOT=str(tmp_path / "work"),
        )


def _label(server: XnatServer, proctype: str) -> tuple[str, str]:
    (a,) = [a for a in server.store.assessors_of("P2") if a.fields["proctype"] == proctype]
    return a.label, a.id


def _fits(text: str) -> None:
    too_wide = [line for line in text.splitlines() if len(line) > 80]
    assert not too_wide, too_wide
    assert "…" not in text, text


def test_history_prints_a_task_s_transitions_in_80_columns_in_one_request(
    server: XnatServer, env: dict[str, str], tmp_path: Path
) -> None:
    """After a run: submitted, running, uploading, complete, in order; one listing asked."""
    ran = run_aspider(["run", "P2", "--wait", "--interval", "0.2"], env, tmp_path)
    assert ran.returncode == 0, ran.stderr
    label, assessor_id = _label(server, "imgstats_v1")
    before = len(server.requests)
    shown = run_aspider(["status", "P2", "--history", label], env, tmp_path)
    asked = [r.path for r in server.requests[before:]]
    assert shown.returncode == 0, shown.stderr
    _fits(shown.stdout)
    lines = shown.stdout.splitlines()
    assert lines[:2] == [label, "imgstats_v1: 2 transition(s)"]
    assert lines[3].split() == ["when", "status", "what", "happened"]
    rows = [line.split(None, 3) for line in lines[5:] if line.strip()]
    assert [(r[2], r[3].split()[0]) for r in rows] == [
        ("JOB_RUNNING", "submitted"),
        ("COMPLETE", "complete"),
    ]
    assert [p for p in asked if "workflows" in p] == ["/data/services/workflows/imgstats_v1"]
    assert not [p for p in asked if p.endswith(("/experiments", "/assessors"))]  # no snapshot
    as_json = json.loads(
        run_aspider(["status", "P2", "--history", label, "--json"], env, tmp_path).stdout
    )
    assert [e["procstatus"] for e in as_json["history"]] == ["JOB_RUNNING", "COMPLETE"]
    assert {e["experiment_id"] for e in as_json["history"]} == {assessor_id}
    assert as_json["history"][-1]["xnat_status"] == "Complete"


def test_a_long_or_hostile_description_folds_within_80_columns(
    server: XnatServer, env: dict[str, str], tmp_path: Path
) -> None:
    """A reason of 250 characters with markup in it is printed whole, folded, never parsed."""
    session = next(server.store.sessions_of("P2"))
    a = server.store.add_assessor(session, "P2-x-S-x-E-x-fs7_v1-x-0a1b2c3d", proctype="fs7_v1")
    reason = "failed: [bold]job 7[/bold] exited with code 137; log: " + "x" * 190
    fields = {"ID": a.id, "pipeline_name": "fs7_v1", "data_type": "proc:genProcData"}
    fields |= {"launch_time": "2024-01-01 10:00:00.5", "status": "Failed"}
    fields |= {"current_step_id": "JOB_FAILED", "step_description": reason}
    server.store.add_workflow(fields, dt.datetime(2024, 1, 1, 10), "admin")
    shown = run_aspider(["status", "P2", "--history", a.label], env, tmp_path)
    assert shown.returncode == 0, shown.stderr
    _fits(shown.stdout)
    body = "".join(line.split("JOB_FAILED")[-1].strip() for line in shown.stdout.splitlines()[5:])
    assert body.replace(" ", "") == reason.replace(" ", "")


def test_no_history_for_a_label_says_so_and_exits_1(env: dict[str, str], tmp_path: Path) -> None:
    """An unknown label (or history off): exit 1 and a line that says which; a bad form: 2."""
    missing = run_aspider(
        ["status", "P2", "--history", "P2-x-S-x-E-x-fs7_v1-x-deadbeef"], env, tmp_path
    )
    assert missing.returncode == 1
    assert "no status history for P2-x-S-x-E-x-fs7_v1-x-deadbeef" in missing.stderr
    odd = run_aspider(["status", "P2", "--history", "just-a-label"], env, tmp_path)
    assert odd.returncode == 2
    assert "--processor" in odd.stderr
