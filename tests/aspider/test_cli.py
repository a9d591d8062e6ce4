"""The CLI against the XNAT-compatible server (in-process ASGI) and the example processors."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from aspider.cli import app
from aspider.plan.states import ProcStatus, normalise_procstatus
from tests.aspider.conftest import EXAMPLES, first_session, runner, use_demo_processors
from tests.engine.conftest import shell_processor
from xnat_client.sandbox import XnatServer, generate_project


def test_processors_validate_examples() -> None:
    """`processors --validate` accepts the five examples and exits 0."""
    result = runner.invoke(app, ["processors", "--validate", EXAMPLES])
    assert result.exit_code == 0, result.output
    assert "5 processor(s) valid" in result.output


def test_processors_reports_file_and_line(tmp_path: Path) -> None:
    """An invalid file makes `processors` exit 1 and print file:line: field."""
    bad = tmp_path / "bad_v1.0.0.yaml"
    bad.write_text("command:\n  type: shell\n  scirpt: echo\n")
    result = runner.invoke(app, ["processors", "--validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: command.scirpt: unknown key 'scirpt'; did you mean 'script'?" in result.output


def test_explain_a_synthetic_session(server: XnatServer) -> None:
    """explain --json says which processors can run and resolves FreeSurfer's T1 to scan 1."""
    result = runner.invoke(app, ["explain", "DEMO", first_session(server), "--json"])
    assert result.exit_code == 0, result.output
    report = {item["proctype"]: item for item in json.loads(result.stdout)}
    assert set(report) == {
        "dtiqa_v1",
        "fmriqa_v1",
        "freesurfer_v7",
        "rsfmri_preproc_v1",
        "tfmri_preproc_v1",
    }
    fs_inputs = [t["inputs"][0]["scan"] for t in report["freesurfer_v7"]["tasks"]]
    assert fs_inputs == ["1"]
    rs = report["rsfmri_preproc_v1"]
    assert not rs["can_run"]


def test_dry_run_plans_without_writing(server: XnatServer) -> None:
    """run --dry-run --json plans creates and at most max_queued submissions, changing nothing."""
    before = len(list(server.store.assessors_of("DEMO")))
    result = runner.invoke(app, ["run", "DEMO", "--dry-run", "--json", "--max-queued", "2"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    kinds = [a["kind"] for s in plan["sessions"] for a in s["actions"]]
    assert kinds.count("create") >= 6
    assert kinds.count("submit") <= 2
    assert len(list(server.store.assessors_of("DEMO"))) == before
    assert not [
        r
        for r in server.requests
        if r.method in ("PUT", "POST", "DELETE") and "JSESSION" not in r.path
    ]


def test_dry_run_observes_the_jobs_a_sweep_follows(
    server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """After a sweep submitted jobs that have ended, --dry-run plans to finalize them."""
    use_demo_processors(monkeypatch, tmp_path)
    first = runner.invoke(app, ["run", "DEMO", "--json"])
    assert first.exit_code == 0, first.output
    running = {
        a.label
        for a in server.store.assessors_of("DEMO")
        if a.fields.get("procstatus") == "JOB_RUNNING" and a.fields.get("proctype") == "imgstats_v1"
    }
    assert len(running) == min(6, os.cpu_count() or 1)  # local jobs: one per core at most
    deadline = time.monotonic() + 60  # hang guard: the demo jobs take well under a second
    while not all((tmp_path / label / "status" / "exit_code").exists() for label in running):
        assert time.monotonic() < deadline, "demo jobs did not end"
        time.sleep(0.05)
    result = runner.invoke(app, ["run", "DEMO", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    actions = [a for s in json.loads(result.stdout)["sessions"] for a in s["actions"]]
    assert {a["task"]["label"] for a in actions if a["kind"] == "finalize"} == running
    assert not [a for a in actions if a["kind"] == "mark_failed"]
    assert {a.label for a in server.store.assessors_of("DEMO")} >= running


def test_run_executes_until_every_task_is_complete(
    server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """run --wait with the local executor creates, runs and uploads every demo task; exit 0."""
    use_demo_processors(monkeypatch, tmp_path)
    result = runner.invoke(app, ["run", "DEMO", "--wait", "--interval", "0.2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["by_processor"]["imgstats_v1"]["completed"] == 6
    assert summary["by_processor"]["sessreport_v1"]["completed"] == 6
    assert summary["failures"] == []
    statuses = {
        a.fields.get("procstatus")
        for a in server.store.assessors_of("DEMO")
        if a.fields.get("proctype") in ("imgstats_v1", "sessreport_v1")
    }
    assert statuses == {"COMPLETE"}


def test_config_show_masks_secrets(server: XnatServer) -> None:
    """config show prints the effective configuration with the password masked."""
    result = runner.invoke(app, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["xnat"]["password"] == "**********"
    assert "admin" not in json.dumps(data["xnat"]["password"])


def test_secret_in_settings_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A password in the settings file is a configuration error (exit 2) naming the fix."""
    settings = tmp_path / "aspider.yaml"
    settings.write_text("xnat:\n  url: http://x\n  password: hunter2\n")
    result = runner.invoke(app, ["config", "show", "--settings", str(settings)])
    assert result.exit_code == 2
    assert "ASPIDER_XNAT__PASSWORD" in result.output
    assert "hunter2" not in result.output


def test_precedence_file_env_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment beats the settings file; an override beats both."""
    from aspider.settings import load_settings

    settings = tmp_path / "s.yaml"
    settings.write_text("cluster:\n  queue: fromfile\n  host: filehost\nlimits:\n  max_queued: 5\n")
    monkeypatch.setenv("ASPIDER_CLUSTER__QUEUE", "fromenv")
    loaded = load_settings(settings, {"limits": {"max_queued": 9}})
    assert (loaded.cluster.queue, loaded.cluster.host, loaded.limits.max_queued) == (
        "fromenv",
        "filehost",
        9,
    )


def test_rerun_sends_back_only_our_finished_tasks(
    server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """fs7_v1 is ours: its ended tasks go back, its running ones stay; other pipelines untouched."""
    shell_processor(tmp_path / "procs", "fs7", "'true'")
    monkeypatch.setenv("ASPIDER_PROCESSOR_PATHS", json.dumps([str(tmp_path / "procs")]))
    before = {a.label: a.fields.get("procstatus") for a in server.store.assessors_of("DEMO")}
    result = runner.invoke(app, ["rerun", "DEMO", "--yes", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    after = {a.label: a.fields.get("procstatus") for a in server.store.assessors_of("DEMO")}
    ours = {label for label in before if "-x-fs7_v1" in label}
    in_flight = (ProcStatus.JOB_RUNNING, ProcStatus.READY_TO_UPLOAD, ProcStatus.UPLOADING)
    running = {label for label in ours if normalise_procstatus(before[label]) in in_flight}
    assert running  # the synthetic project has some
    assert set(answer["left_running"]) == running
    assert set(answer["sent_back"]) == ours - running
    for label, status in after.items():
        if label in ours - running:
            assert status == "NEED_TO_RUN"
        else:
            assert status == before[label], label


def test_rerun_cancel_shows_the_jobs_it_would_cancel_and_asks_for_yes(
    server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--cancel --dry-run: running tasks with a job id would go back, their jobs listed to be
    cancelled; uploads stay left alone. Without --yes off a terminal: the jobs are named, no
    write, no cancel."""
    shell_processor(tmp_path / "procs", "fs7", "'true'")
    monkeypatch.setenv("ASPIDER_PROCESSOR_PATHS", json.dumps([str(tmp_path / "procs")]))
    ours = [a for a in server.store.assessors_of("DEMO") if "-x-fs7_v1" in a.label]
    status = {a.label: normalise_procstatus(a.fields.get("procstatus", "")) for a in ours}
    running = {
        a.label: a.fields["jobid"]
        for a in ours
        if status[a.label] is ProcStatus.JOB_RUNNING and a.fields.get("jobid")
    }
    assert running  # the synthetic project has some
    before = {a.label: dict(a.fields) for a in ours}
    result = runner.invoke(app, ["rerun", "DEMO", "--cancel", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert sorted(answer["would_cancel"]) == sorted(running.values())
    assert set(running) <= set(answer["would_send_back"])
    uploading = (ProcStatus.READY_TO_UPLOAD, ProcStatus.UPLOADING)
    assert {label for label, s in status.items() if s in uploading} <= set(answer["left_running"])
    asked = runner.invoke(app, ["rerun", "DEMO", "--cancel"])
    assert asked.exit_code == 2
    assert f"cancelling {len(running)} job(s) first; pass --yes" in asked.stderr
    assert before == {a.label: dict(a.fields) for a in ours}


def test_an_unknown_project_is_a_usage_error_before_any_write(
    server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """status NOPE, run NOPE DEMO: one line naming the projects XNAT lists, exit 2, no write."""
    status = runner.invoke(app, ["status", "NOPE"])
    assert status.exit_code == 2
    assert "project 'NOPE': XNAT at " in status.stderr
    assert "projects it can see: DEMO" in status.stderr
    assert "Traceback" not in status.output
    use_demo_processors(monkeypatch, tmp_path)
    result = runner.invoke(app, ["run", "NOPE", "DEMO", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {"error": status.stderr[7:].strip(), "exit": 2}
    writes = [r.path for r in server.requests if r.method != "GET" and "JSESSION" not in r.path]
    assert writes == []


def test_demo_runs_every_task_to_complete() -> None:
    """`aspider demo` on a small project: exit 0 only with every task COMPLETE and a report."""
    result = runner.invoke(app, ["demo", "--sessions", "3"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "REPORT of" in text
    assert "sha256=" in text


def test_log_format_json_writes_only_json_lines(
    server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """
    For a log collector: records on stderr, the summary one line on stdout; all JSON. NOPE is
    a project XNAT lists but will not serve (403), which fails it and not DEMO.
    """
    generate_project(server, "NOPE", sessions=1)
    server.faults.path_pattern = "/projects/NOPE/"
    server.faults.inject("error", 50, status=403)
    use_demo_processors(monkeypatch, tmp_path)
    result = runner.invoke(app, ["run", "NOPE", "DEMO", "--log-format", "json"])
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stderr.splitlines()]
    (summary,) = [json.loads(line)["summary"] for line in result.stdout.splitlines()]
    assert summary["by_processor"]["imgstats_v1"]["created"] == 6
    assert summary["failed_projects"].keys() == {"NOPE"}
    assert any(r["level"] == "error" and "NOPE" in r["message"] for r in records)


def test_status_counts_the_jobs_on_the_cluster(
    server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """After a sweep submitted local jobs, status reports them by state; --xnat-only does not."""
    use_demo_processors(monkeypatch, tmp_path)
    first = runner.invoke(app, ["run", "DEMO", "--json"])
    assert first.exit_code == 0, first.output
    submitted = sum(c["submitted"] for c in json.loads(first.stdout)["by_processor"].values())
    shown = runner.invoke(app, ["status", "DEMO", "--json"])
    assert shown.exit_code == 0, shown.output
    jobs = json.loads(shown.stdout)["jobs"]
    assert set(jobs) == {"queued", "running", "ended", "gone", "unknown"}
    assert sum(jobs.values()) == submitted > 0
    text = runner.invoke(app, ["status", "DEMO"])
    assert "Jobs on the cluster: " in text.stdout
    quiet = runner.invoke(app, ["status", "DEMO", "--xnat-only", "--json"])
    assert json.loads(quiet.stdout)["jobs"] is None
