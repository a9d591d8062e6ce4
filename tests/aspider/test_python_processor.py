"""A Processor subclass registered as module:Class, with a custom coroutine matching hook."""

from __future__ import annotations

from pathlib import Path

import pytest

from aspider._exceptions import ProcessorError
from aspider.plan import plan_projects
from aspider.processors import (
    load_processor_class,
    load_processors,
    with_overrides,
    with_stale_policy,
)
from tests.aspider.snapshots import scan, session, snapshot


@pytest.mark.anyio
async def test_custom_match_hook_is_awaited_by_the_planner() -> None:
    """Only the baseline session gets a FreeSurfer task: the subclass's hook decided."""
    proc = load_processor_class("tests.aspider.custom_processor:BaselineOnly")
    assert (proc.proctype, proc.procversion) == ("freesurfer_v7", "7.2.0")
    snap = snapshot(
        session("E1", "S1_BL", scans=(scan("1", "T1w"),)),
        session("E2", "S1_M12", scans=(scan("1", "T1w"),), date="2025-01-01"),
    )
    plan = await plan_projects([snap], [proc])
    assert {a.task.session_label for a in plan.actions()} == {"S1_BL"}


def test_class_reference_errors_are_processor_errors() -> None:
    """A bad module:Class names the reference in a ProcessorError."""
    with pytest.raises(ProcessorError, match="no_such_module:X"):
        load_processors(classes=["no_such_module:X"])
    with pytest.raises(ProcessorError, match="expected module:Class"):
        load_processor_class("just_a_name")


def test_a_class_defined_in_a_notebook_finds_its_yaml_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No source file (a notebook cell): a relative YAML is read from the current folder."""
    from aspider.demo import DEMO_PROCESSORS

    yaml = "imgstats_v1.0.0.yaml"
    (tmp_path / yaml).write_text((DEMO_PROCESSORS / yaml).read_text())
    monkeypatch.chdir(tmp_path)
    cell: dict[str, object] = {}
    code = (
        "from aspider.processors import Processor\n"
        "class FromACell(Processor):\n    YAML = 'imgstats_v1.0.0.yaml'\n"
    )
    exec(compile(code, "<cell>", "exec"), cell)  # noqa: S102
    made = cell["FromACell"]()  # type: ignore[operator]
    assert made.proctype == "imgstats_v1"


def test_a_project_s_overrides_and_stale_policy_keep_a_python_processor_s_match() -> None:
    """Its own `match` still decides under the project's variant of it."""
    proc = load_processor_class("tests.aspider.custom_processor:BaselineOnly")
    varied = with_stale_policy(with_overrides(proc, {"walltime": "0-03"}, "projects.P"), ["inputs"])
    assert type(varied) is type(proc)
    assert varied.spec.requirements.walltime == "0-03"
    assert varied.spec.rerun_stale == ("inputs",)
