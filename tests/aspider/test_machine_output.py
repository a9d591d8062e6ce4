"""
What scripts and log collectors read, from `aspider` run as a process: with `--json` stdout is
exactly one JSON document; with `--log-format json` every line on stderr is a JSON record, the
final error included, and every action of a sweep is a record of its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.aspider.processes import DEMO_PROCESSORS, clean_env, run_aspider, xnat_over_tcp
from tests.conftest import ClusterProfile
from xnat_client.sandbox import XnatServer, generate_project


def _server() -> XnatServer:
    server = XnatServer()
    generate_project(server, "P1", sessions=2, assessors_per_session=0, seed=5)
    return server


def _env(tmp_path: Path, url: str) -> dict[str, str]:
    return clean_env(
        tmp_path,
        ASPIDER_XNAT__URL=url,
        ASPIDER_XNAT__USER="admin",
        ASPIDER_XNAT__PASSWORD="admin",
        ASPIDER_PROCESSOR_PATHS=json.dumps([str(DEMO_PROCESSORS)]),
        ASPIDER_CLUSTER__WORK_ROOT=str(tmp_path / "work"),
    )


def _records(stderr: str) -> list[dict[str, Any]]:
    """Every stderr line as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in stderr.splitlines()]


def test_json_stdout_is_one_document_while_warnings_are_logged(tmp_path: Path) -> None:
    """XNAT answers 503 twice (retry warnings): stdout stays one JSON document."""
    server = _server()
    server.faults.path_pattern = "/data/experiments"
    server.faults.inject("error", 2, status=503)
    with xnat_over_tcp(server) as url:
        result = run_aspider(["run", "P1", "--json"], _env(tmp_path, url), tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)  # the whole of stdout, nothing before or after
    assert summary["failed_projects"] == {}
    assert summary["by_processor"]["imgstats_v1"]["created"] == 2
    assert "retry 1" in result.stderr


@pytest.mark.parametrize("command", [["run", "P1", "NOPE"], ["status", "NOPE"]])
def test_an_error_under_json_is_a_json_document(tmp_path: Path, command: list[str]) -> None:
    """A project XNAT does not list: stdout is the error document, the same line on stderr."""
    with xnat_over_tcp(_server()) as url:
        result = run_aspider([*command, "--json"], _env(tmp_path, url), tmp_path)
    assert result.returncode == 2, result.stderr
    document = json.loads(result.stdout)
    assert document["exit"] == 2
    assert document["error"].startswith("project 'NOPE': ")
    assert result.stderr == f"error: {document['error']}\n"


def test_every_action_of_a_sweep_is_a_json_record(tmp_path: Path) -> None:
    """create, submit and complete, each a record with project, session, label and job id."""
    with xnat_over_tcp(_server()) as url:
        result = run_aspider(
            ["run", "P1", "--wait", "--interval", "0.2", "--log-format", "json"],
            _env(tmp_path, url),
            tmp_path,
        )
    assert result.returncode == 0, result.stderr
    actions = [r for r in _records(result.stderr) if r["logger"] == "aspider.actions"]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for record in actions:
        by_kind.setdefault(record["action"], []).append(record)
    assert len(by_kind["created"]) == len(by_kind["submitted"]) == len(by_kind["completed"]) == 4
    for record in by_kind["submitted"] + by_kind["completed"]:
        assert record["project"] == "P1"
        assert record["session"].startswith("P1_S")
        assert record["label"].startswith(f"P1-x-{record['session'][:-4]}")
        assert record["job_id"]
    (summary_line,) = result.stdout.splitlines()
    assert json.loads(summary_line)["summary"]["by_processor"]["sessreport_v1"]["completed"] == 2


def test_the_final_error_is_a_json_record_too(tmp_path: Path) -> None:
    """Malformed YAML, an unknown option, a bad processor: one JSON record each, and exit 2."""
    settings = tmp_path / "s.yaml"
    settings.write_text("xnat:\n  url: [http://x\n")
    bad_procs = tmp_path / "procs"
    bad_procs.mkdir()
    (bad_procs / "bad_v1.0.0.yaml").write_text("command:\n  type: shell\n  scirpt: echo\n")
    env = clean_env(tmp_path, ASPIDER_XNAT__URL="http://127.0.0.1:9")
    cases = [
        ["run", "P1", "--log-format", "json", "--settings", str(settings)],
        ["run", "P1", "--log-format=json", "--no-such-option"],
        ["run", "P1", "--log-format", "json", "--dry-run"],
    ]
    env_with_procs = {**env, "ASPIDER_PROCESSOR_PATHS": json.dumps([str(bad_procs)])}
    for args, environment in zip(cases, (env, env, env_with_procs), strict=True):
        result = run_aspider(args, environment, tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stdout == ""
        (record,) = _records(result.stderr)
        assert record["level"] == "error"
        assert record["exit_status"] == 2
    assert "scirpt" in record["message"]


@pytest.mark.cluster
def test_an_unknown_host_key_is_one_json_record(tmp_path: Path, cluster: ClusterProfile) -> None:
    """The cluster's key is not in known_hosts: the error is a record with exit_status 2."""
    (tmp_path / "known_hosts").write_text("")
    with xnat_over_tcp(_server()) as url:
        env = {
            **_env(tmp_path, url),
            "ASPIDER_CLUSTER__EXECUTOR": "pbs",
            "ASPIDER_CLUSTER__HOST": cluster.host,
            "ASPIDER_CLUSTER__PORT": str(cluster.port),
            "ASPIDER_CLUSTER__USER": cluster.user,
            "ASPIDER_CLUSTER__KEY_PATH": str(cluster.key_path),
            "ASPIDER_CLUSTER__KNOWN_HOSTS": str(tmp_path / "known_hosts"),
        }
        result = run_aspider(["run", "P1", "--dry-run", "--log-format", "json"], env, tmp_path)
    assert result.returncode == 2, result.stderr
    (record,) = _records(result.stderr)
    assert (record["level"], record["exit_status"]) == ("error", 2)
    assert "not trusted" in record["message"]
