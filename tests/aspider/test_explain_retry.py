"""`explain` and the retry policy: where a task stands in it, once the assessor records it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aspider.cli import app
from aspider.cli.explain import attempts
from tests.aspider.conftest import first_session, runner
from xnat_client.sandbox import XnatServer


def test_the_attempt_line_names_the_count_and_the_next_request() -> None:
    """`attempt 2 of 3; next request: ...`, or that none is left after the last."""
    more = {"attempt": 2, "attempts": 3, "next_request": "8 GB, 03:00:00"}
    last = {"attempt": 3, "attempts": 3, "next_request": ""}
    assert attempts(more) == "attempt 2 of 3; next request: 8 GB, 03:00:00"
    assert attempts(last) == "attempt 3 of 3; no attempt left"


def test_explain_json_has_a_retry_entry_for_each_existing_task(
    server: XnatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each existing assessor's entry has `retry` (null while no attempts are recorded)."""
    monkeypatch.setenv("ASPIDER_CLUSTER__WORK_ROOT", str(tmp_path))
    created = runner.invoke(app, ["run", "DEMO", "--max-queued", "0"])  # created, not submitted
    assert created.exit_code == 0, created.output
    result = runner.invoke(app, ["explain", "DEMO", first_session(server), "--json"])
    assert result.exit_code == 0, result.output
    existing = [
        t["assessor"] for item in json.loads(result.stdout) for t in item["tasks"] if t["assessor"]
    ]
    assert existing
    assert all(a["retry"] is None for a in existing)
