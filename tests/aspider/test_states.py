"""The state table: documented, complete for the planner, and legacy statuses mapped."""

from __future__ import annotations

from pathlib import Path

from aspider.plan.states import LEGACY_STATUSES, ProcStatus, normalise_procstatus, render_markdown

DOC = Path(__file__).parents[2] / "docs" / "states.md"


def test_docs_contain_the_generated_table() -> None:
    """docs/states.md holds exactly the table the planner uses."""
    assert render_markdown() in DOC.read_text()


def test_seed_statuses_map_onto_the_table() -> None:
    """Every status of the seed notes maps to one of the table's statuses."""
    seed = [
        "BUILD_COMPLETE",
        "PRE_RUNNING",
        "PRE_COMPLETE",
        "JOB_COMPLETE",
        "XVFB_ERROR",
        "JOB_ERROR",
        "JOB_RUNNING",
    ]
    mapped = {s: normalise_procstatus(s) for s in seed}
    assert mapped == {
        "BUILD_COMPLETE": ProcStatus.COMPLETE,
        "PRE_RUNNING": ProcStatus.NEED_INPUTS,
        "PRE_COMPLETE": ProcStatus.NEED_TO_RUN,
        "JOB_COMPLETE": ProcStatus.READY_TO_UPLOAD,
        "XVFB_ERROR": ProcStatus.JOB_FAILED,
        "JOB_ERROR": ProcStatus.JOB_FAILED,
        "JOB_RUNNING": ProcStatus.JOB_RUNNING,
    }
    assert LEGACY_STATUSES["XVFB_ERROR"][1] != LEGACY_STATUSES["JOB_ERROR"][1]


def test_unknown_status_is_none() -> None:
    """A status nobody defined is not guessed at."""
    assert normalise_procstatus("WHATEVER") is None
