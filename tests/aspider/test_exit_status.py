"""The exit status says how a run ended, not what went wrong on the way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aspider.cli import app
from aspider.plan import Plan
from aspider.run.commands.runner import run_ending
from aspider.run.sweep import SweepReport
from aspider.run.tasks.execute import Outcome
from tests.aspider.conftest import runner, use_demo_processors
from tests.engine.conftest import shell_processor
from xnat_client.sandbox import XnatServer


def test_a_wait_run_that_ends_complete_exits_0_and_lists_what_was_put_right(
    server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Staging fails once (XNAT refuses a file), the next sweep stages it: exit 0, transient 1."""
    use_demo_processors(monkeypatch, tmp_path)
    server.faults.path_pattern = r"/resources/NIFTI/files"
    server.faults.inject("error", 1, status=403)
    result = runner.invoke(app, ["run", "DEMO", "--wait", "--interval", "0.2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["failures"] == []
    (transient,) = summary["transient_failures"]
    assert "staging inputs failed" in transient["reason"]
    assert summary["ended"] == "done"
    assert summary["by_processor"]["imgstats_v1"]["completed"] == 6


def test_a_task_still_failed_at_the_end_exits_1(
    server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A job that exits 3 leaves its task JOB_FAILED: the run ends failed, exit 1."""
    shell_processor(tmp_path / "procs", "fails", "'exit 3'")
    monkeypatch.setenv("ASPIDER_PROCESSOR_PATHS", json.dumps([str(tmp_path / "procs")]))
    monkeypatch.setenv("ASPIDER_CLUSTER__WORK_ROOT", str(tmp_path / "work"))
    result = runner.invoke(app, ["run", "DEMO", "--wait", "--interval", "0.2", "--json"])
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert summary["ended"] == "failed"
    assert summary["failures"]
    assert all("exited with code 3" in f["reason"] for f in summary["failures"])


def _report(project: str, failures: list[tuple[str, str]], moved: set[str]) -> SweepReport:
    return SweepReport(project, Plan(sessions=()), Outcome(failures=failures, moved=moved))


def test_a_later_failure_of_the_same_task_stands() -> None:
    """Failed, retried, failed again: it stands; failed then submitted: it was transient."""
    reports = [
        _report("P", [("a", "first"), ("b", "first")], {"a", "b"}),
        _report("P", [("a", "again")], {"a", "b"}),
    ]
    ending = run_ending(reports)
    assert ending.failures == [("a", "again")]
    assert ending.transient == [{"label": "b", "reason": "first"}]


def test_session_errors_stand_only_from_each_project_s_last_sweep() -> None:
    """A session XNAT failed in sweep 1 and served in sweep 2 is transient."""
    first, last = _report("P", [], set()), _report("P", [], set())
    first.session_errors.append(("S1", "XNAT: 503"))
    ending = run_ending([first, last])
    assert ending.session_errors == []
    assert ending.transient == [{"project": "P", "session": "S1", "error": "XNAT: 503"}]
