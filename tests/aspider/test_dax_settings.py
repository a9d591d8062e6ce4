"""Per-project overrides with DAX's `arguments` keys, and a DAX settings file imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from aspider._exceptions import ConfigError
from aspider.cli import app
from aspider.plan import iter_scopes, match_scope
from aspider.processors import load_processor, with_overrides
from aspider.run.commands.runner import for_project
from aspider.settings import AspiderSettings, load_settings
from tests.aspider.conftest import runner
from tests.aspider.snapshots import scan, session, snapshot

OURS = Path(__file__).parents[1] / "dax_compat" / "processors"


def test_overrides_change_types_fmatch_and_requirements() -> None:
    """DAX's keys: an input's types and keep_multis, a resource's fmatch by its (default)
    varname, walltime and memory; the file's own processor is left as it was."""
    anat = load_processor(OURS / "anat_v1.0.0.yaml")
    changed = with_overrides(
        anat,
        {
            "inputs.xnat.scans.scan_t1.types": "FLAIR",
            "inputs.xnat.scans.scan_t1.keep_multis": "all",
            "inputs.xnat.scans.scan_t1.resources.scan_t1-NIFTI-0.fmatch": "*.nii",
            "walltime": "1-00",
            "attrs.memory": "32G",
        },
        "projects.P.processors.anat_v1",
    )
    scan_in = changed.spec.inputs.xnat.scans[0]
    assert (scan_in.types, scan_in.keep_multis, scan_in.resources[0].fmatch) == (
        "FLAIR",
        "all",
        "*.nii",
    )
    assert (changed.spec.requirements.walltime, changed.spec.requirements.memory_mb) == (
        "1-00",
        32768,
    )
    assert anat.spec.inputs.xnat.scans[0].types == "T1,MPRAGE*"
    flair = snapshot(session(scans=(scan("4", "FLAIR", resources={"NIFTI": 1, "JSON": 1}),)))
    scope = next(iter_scopes(flair, "session"))
    assert match_scope(anat, scope).candidates == ()
    assert len(match_scope(changed, scope).candidates) == 1


def test_an_override_that_does_not_fit_names_itself() -> None:
    """An unknown input (with a suggestion), an unknown resource or a bad value is a
    configuration error naming the settings entry."""
    anat = load_processor(OURS / "anat_v1.0.0.yaml")
    where = "projects.P.processors.anat_v1"
    cases = [
        ({"inputs.xnat.scans.scan_t2.types": "T2"}, "no scan input 'scan_t2'; did you mean"),
        ({"inputs.xnat.scans.scan_t1.resources.X.fmatch": "*"}, "has no resource 'X'"),
        ({"inputs.xnat.scans.scan_t1.keep_multis": "0"}, "keep_multis must be all"),
    ]
    for overrides, message in cases:
        with pytest.raises(ConfigError, match=message) as info:
            with_overrides(anat, overrides, where)
        assert str(info.value).startswith(where)


def test_projects_take_a_list_or_a_mapping_of_processors(tmp_path: Path) -> None:
    """The old list shape still works; the mapping gives each project its own variant; a key
    DAX's arguments do not have is refused when the settings load."""
    path = tmp_path / "aspider.yaml"
    path.write_text(
        "projects:\n"
        "  P1: {processors: [anat_v1]}\n"
        "  P2:\n"
        "    processors:\n"
        "      anat_v1: {walltime: 2-00}\n"
        "      multi_v1: null\n"
    )
    settings = load_settings(path)
    assert settings.processors_for("P1") == ("anat_v1",)
    assert settings.processors_for("P2") == ("anat_v1", "multi_v1")
    procs = [load_processor(OURS / n) for n in ("anat_v1.0.0.yaml", "multi_v1.0.0.yaml")]
    p1, p2 = for_project(settings, "P1", procs), for_project(settings, "P2", procs)
    assert [p.spec.requirements.walltime for p in p1] == ["0-02"]
    assert [(p.proctype, p.spec.requirements.walltime) for p in p2] == [
        ("anat_v1", "2-00"),
        ("multi_v1", "0-01"),
    ]
    path.write_text("projects:\n  P1: {processors: {anat_v1: {vars.x: 1}}}\n")
    with pytest.raises(ConfigError, match=r"'vars\.x' is not an override"):
        load_settings(path)


DAX_SETTINGS = """\
processorlib: {lib}
singularity_imagedir: /opt/images
resdir: /scratch/RESULTS
attrs:
  queue_limit: 40
  queue_limit_pending: 5
  xnat_host: https://xnat.example.org
  xnat_user: spider
  xnat_pass: never-copied
  job_rungroup: lab
yamlprocessors:
  - {{name: anat, filepath: anat_v1.0.0.yaml}}
  - name: anat-flair
    filepath: anat_v1.0.0.yaml
    arguments: {{inputs.xnat.scans.scan_t1.types: FLAIR, walltime: 1-00}}
sgpprocessors:
  - {{name: long, filepath: long_v1.0.0.yaml}}
modules:
  - {{name: m, filepath: Module_x.py}}
projects:
  - {{project: P1, yamlprocessors: anat, sgpprocessors: long}}
  - {{project: P2, yamlprocessors: anat-flair}}
  - {{project: P3, modules: m}}
"""


def test_import_dax_writes_settings_and_says_what_it_left(tmp_path: Path) -> None:
    """Processor files, per-project variants as overrides, images, XNAT host and user, the
    queue limit and account carry over; the password never does; every left-out thing is a
    line on stderr; the file written loads as aspider settings."""
    dax = tmp_path / "dax.yaml"
    dax.write_text(DAX_SETTINGS.format(lib=OURS))
    out = tmp_path / "aspider.yaml"
    result = runner.invoke(app, ["import-dax", str(dax), "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = out.read_text()
    assert "never-copied" not in written
    data = yaml.safe_load(written)
    assert data["processor_paths"] == [
        str(OURS / "anat_v1.0.0.yaml"),
        str(OURS / "long_v1.0.0.yaml"),
    ]
    assert data["projects"] == {
        "P1": {"processors": {"anat_v1": None, "long_v1": None}},
        "P2": {
            "processors": {
                "anat_v1": {"inputs.xnat.scans.scan_t1.types": "FLAIR", "walltime": "1-00"}
            }
        },
    }
    assert (data["xnat"], data["limits"], data["cluster"]) == (
        {"url": "https://xnat.example.org", "user": "spider"},
        {"max_queued": 40},
        {"account": "lab", "container_dir": "/opt/images"},
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("not mapped: ")]
    for expected in ("attrs.xnat_pass", "attrs.queue_limit_pending", "resdir", "project P3"):
        assert any(line.startswith(f"not mapped: {expected}") for line in lines), expected
    settings = load_settings(out)
    assert isinstance(settings, AspiderSettings)
    assert json.dumps(settings.overrides_for("P2")) == json.dumps(
        {"anat_v1": {"inputs.xnat.scans.scan_t1.types": "FLAIR", "walltime": "1-00"}}
    )
