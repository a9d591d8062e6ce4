"""What the commands print is data: labels and reasons with `[...]` are shown, never parsed."""

from __future__ import annotations

from rich.console import Console

from aspider.cli.report import print_summary
from aspider.plan import Plan
from aspider.run.sweep import SweepReport
from aspider.run.tasks.execute import Outcome

HOSTILE_LABEL = "P-x-S[/b]-x-E[bold]$(id)-x-fs7_v1-x-0a1b2c3d"
HOSTILE_REASON = "job 7 exited with code 3; log: [/red] boom [link=x]"


def test_summary_prints_hostile_labels_and_reasons_verbatim() -> None:
    outcome = Outcome(failures=[(HOSTILE_LABEL, HOSTILE_REASON)])
    report = SweepReport("P", Plan(sessions=()), outcome)
    report.session_errors.append(("S[/i]1", "XNAT said [/x]"))
    console = Console(record=True, width=200)
    print_summary(console, [report])
    text = console.export_text()
    assert f"failed {HOSTILE_LABEL}: {HOSTILE_REASON}" in text
    assert "session S[/i]1: XNAT said [/x]" in text
