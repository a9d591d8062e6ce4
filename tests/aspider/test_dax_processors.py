"""DAX v3 processor files load with DAX's meaning; older formats and mistakes say exactly why."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from aspider._exceptions import ConfigError, ProcessorError
from aspider.cli import app
from aspider.plan import build_task, iter_scopes, match_scope
from aspider.processors import load_processor, load_processors_leniently
from aspider.run.tasks.job_templates import job_template, run_notices
from tests.aspider.conftest import runner
from tests.aspider.snapshots import scan, session, snapshot
from xnat_client.sandbox import XnatServer

OURS = Path(__file__).parents[1] / "dax_compat" / "processors"
LEGACY = Path(__file__).parents[1] / "dax_compat" / "legacy"

DAX_SHAPED = """\
procyamlversion: 3.0.0-dev.0
containers:
  - {name: c, path: c.sif}
requirements: {walltime: '0-01', memory: 1G}
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1
        resources:
          - {resource: NIFTI, fdest: t1.nii.gz}
    attrs:
      - {varname: who, object: assessor, attr: ATTR}
outputs:
  - stats: out.txt
command: {type: singularity_exec, args: 'run {who}'}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_our_dax_files_load_at_the_level_dax_infers() -> None:
    """No file says `level:`: sessions[] makes a subject processor, subjects a project one
    (named for its folder), anything else a session processor."""
    levels = {}
    for path in [*sorted(OURS.glob("*.yaml")), OURS / "summary" / "processor.yaml"]:
        proc = load_processor(path)
        levels[proc.proctype] = proc.level
    assert levels["anat_v1"] == "session"
    assert levels["pet_v1"] == "session"
    assert levels["long_v1"] == "subject"
    assert levels["summary"] == "project"


def test_the_new_assessors_attributes_need_no_ref(tmp_path: Path) -> None:
    """`object: assessor` without `ref` is the assessor being built: project, label,
    subject_label, session_label load; its ID (given by XNAT later) is refused, saying why."""
    for attr in ("project", "label", "subject_label", "session_label"):
        load_processor(write(tmp_path, "a_v1.0.0.yaml", DAX_SHAPED.replace("ATTR", attr)))
    with pytest.raises(ProcessorError) as info:
        load_processor(write(tmp_path, "a_v1.0.0.yaml", DAX_SHAPED.replace("ATTR", "ID")))
    (issue,) = info.value.issues
    assert issue.line == 13
    assert "given by XNAT when it is created" in issue.message


def test_attribute_names_are_xnats_with_a_right_suggestion(tmp_path: Path) -> None:
    """A scan's `ID` (XNAT's name) loads with `ref`; a misspelt name suggests the right one."""
    text = DAX_SHAPED.replace(
        "{varname: who, object: assessor, attr: ATTR}",
        "{varname: who, object: scan, attr: ID, ref: scan_t1}",
    )
    load_processor(write(tmp_path, "a_v1.0.0.yaml", text))
    with pytest.raises(ProcessorError) as info:
        load_processor(write(tmp_path, "a_v1.0.0.yaml", DAX_SHAPED.replace("ATTR", "lable")))
    assert "did you mean 'label'?" in info.value.issues[0].message


@pytest.mark.parametrize(
    ("written", "meant"),
    [("attr", "attrs"), ("session", "sessions"), ("petscan", "petscans"), ("subject", "subjects")],
)
def test_dax_keys_get_the_right_did_you_mean(tmp_path: Path, written: str, meant: str) -> None:
    """A misspelt inputs.xnat key is pointed at DAX's own key, never at another one."""
    text = DAX_SHAPED.replace("    attrs:\n", f"    {written}:\n")
    with pytest.raises(ProcessorError) as info:
        load_processor(write(tmp_path, "a_v1.0.0.yaml", text.replace("ATTR", "project")))
    assert f"did you mean '{meant}'?" in info.value.issues[0].message


def test_older_dax_formats_say_so_on_line_one() -> None:
    """A v2 (moreauto) and a v1 (spider) file are refused on line 1, naming their format and
    pointing at the v3 format, not with a misleading file-name or key error."""
    for path, kind in [
        (LEGACY / "old-moreauto_v2.0.0_processor.yaml", "DAX v2 processor (moreauto: true)"),
        (LEGACY / "Spider_old_processor.yaml", "DAX v1 processor"),
    ]:
        with pytest.raises(ProcessorError) as info:
            load_processor(path)
        (issue,) = info.value.issues
        assert issue.line == 1
        assert kind in issue.message
        assert "v3 format (procyamlversion: 3.0.0-dev.0" in issue.message


def test_what_dax_reads_differently_is_noted(tmp_path: Path) -> None:
    """Keys DAX reads nothing of, or reads differently, are notes with their line: fcount,
    require_usable without needs_qc, a name DAX splits differently."""
    anat = load_processor(OURS / "anat_v1.0.0.yaml")
    fcount = "fcount is not used (DAX reads nothing of it either)"
    assert any(n.endswith(fcount) for n in anat.notes)
    text = DAX_SHAPED.replace("ATTR", "project").replace(
        "types: T1\n", "types: T1\n        require_usable: true\n"
    )
    proc = load_processor(write(tmp_path, "x_v1.0.0-rc.1.yaml", text))
    notes = "\n".join(proc.notes)
    assert ":10: require_usable does nothing without needs_qc: true" in notes
    assert "DAX 2.x names this file's proctype '0', not 'x_v1'" in notes


def test_one_bad_file_among_many_is_left_out(tmp_path: Path) -> None:
    """A folder with one broken file loads the others; the broken one is an issue at its line."""
    write(tmp_path, "good_v1.0.0.yaml", DAX_SHAPED.replace("ATTR", "project"))
    write(tmp_path, "bad_v1.0.0.yaml", DAX_SHAPED.replace("ATTR", "colour"))
    loaded, issues = load_processors_leniently([tmp_path])
    assert [p.proctype for p in loaded] == ["good_v1"]
    (issue,) = issues
    assert (Path(issue.path).name, issue.line) == ("bad_v1.0.0.yaml", 13)


def test_run_reports_a_bad_file_and_plans_the_rest(
    server: XnatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run --dry-run`: the bad file is an error line (file:line, skipped), the good one is
    planned, and the exit status is 2."""
    good = DAX_SHAPED.replace("ATTR", "project").replace("types: T1\n", "types: T1w\n")
    write(tmp_path, "good_v1.0.0.yaml", good)
    write(tmp_path, "bad_v1.0.0.yaml", DAX_SHAPED.replace("ATTR", "colour"))
    monkeypatch.setenv("ASPIDER_PROCESSOR_PATHS", json.dumps([str(tmp_path)]))
    monkeypatch.setenv("ASPIDER_CLUSTER__WORK_ROOT", str(tmp_path / "work"))
    result = runner.invoke(app, ["run", "DEMO", "--dry-run", "--json"])
    assert result.exit_code == 2, result.output
    assert "bad_v1.0.0.yaml:13: inputs.xnat.attrs[0].attr" in result.stderr
    assert "(processor skipped)" in result.stderr
    plan = json.loads(result.stdout)
    proctypes = {a["task"]["proctype"] for s in plan["sessions"] for a in s["actions"]}
    assert proctypes == {"good_v1"}


def test_jobtemplates_and_relative_images_are_reported(tmp_path: Path) -> None:
    """A processor's DAX job template is named where the executor cannot use it, and a
    relative image without cluster.container_dir is named too; a Slurm executor gets the
    template, checked, through `job_template`."""
    proc = load_processor(OURS / "anat_v1.0.0.yaml")
    notices = run_notices([proc], "pbs", None)
    unused = (
        "anat_v1: jobtemplate job_template_v3.txt is not used: the pbs executor writes its own "
        "job script (a Slurm executor uses it)"
    )
    relative = (
        "anat_v1: container anat_v1.sif is a relative path and cluster.container_dir is not "
        "set: jobs look for it in their own directory"
    )
    assert notices == [unused, relative]
    absent = (
        "anat_v1: jobtemplate job_template_v3.txt is not beside the processor file: its jobs "
        "use the executor's own job script"
    )
    assert run_notices([proc], "slurm", "/images") == [absent]
    t1 = scan("1", "T1", resources={"NIFTI": 1, "JSON": 1})
    scope = next(iter_scopes(snapshot(session(scans=(t1,))), "session"))
    (cand,) = match_scope(proc, scope).candidates
    task = build_task(proc, cand)
    assert task.jobtemplate == str(OURS / "job_template_v3.txt")
    template = tmp_path / "job_template_v3.txt"
    template.write_text("#!/bin/bash\n#SBATCH --account=${job_rungroup}\n${job_cmds}\n")
    assert job_template(task, "slurm") is None  # not beside the file: the built-in script
    found = job_template(dataclasses.replace(task, jobtemplate=str(template)), "slurm")
    assert found is not None
    assert job_template(dataclasses.replace(task, jobtemplate=str(template)), "pbs") is None
    assert "${job_rungroup}" in found.text
    (tmp_path / "bad.txt").write_text("no shebang ${job_cmds}\n")
    with pytest.raises(ConfigError, match="must start with a #! line"):
        job_template(dataclasses.replace(task, jobtemplate=str(tmp_path / "bad.txt")), "slurm")


def test_a_flattened_project_processor_name_says_where_dax_keeps_it(tmp_path: Path) -> None:
    """`aparc__processor.yaml` is refused on line 1, saying a v3 project processor is
    `processor.yaml` in its own folder; in that folder the same file loads."""
    text = (OURS / "summary" / "processor.yaml").read_text()
    flat = tmp_path / "aparc__processor.yaml"
    flat.write_text(text)
    with pytest.raises(ProcessorError, match="in a folder named for it") as refused:
        load_processor(flat)
    assert f"{flat}:1:" in str(refused.value)
    (tmp_path / "aparc").mkdir()
    (tmp_path / "aparc" / "processor.yaml").write_text(text)
    assert load_processor(tmp_path / "aparc" / "processor.yaml").spec.inputs.xnat.subjects
