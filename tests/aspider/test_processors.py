"""Processor files: validation with file:line: field errors, identity from the file name, DAG."""

from __future__ import annotations

from pathlib import Path

import pytest

from aspider._exceptions import ProcessorCycleError, ProcessorError
from aspider.plan import build_task
from aspider.plan.tasks import CandidateDetail, TaskCandidate
from aspider.processors import load_processor, load_processors, parse_file_name

EXAMPLES = Path(__file__).parents[2] / "examples" / "processors"

MINIMAL = """\
containers:
  - name: c
    path: c.sif
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1w
        resources:
          - resource: NIFTI
            fdest: t1.nii.gz
command:
  type: singularity_exec
  args: run {scan_t1-NIFTI-0}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_five_examples_validate() -> None:
    """The five example processors load together and form a DAG."""
    procs = load_processors([EXAMPLES])
    assert sorted(p.proctype for p in procs) == [
        "dtiqa_v1",
        "fmriqa_v1",
        "freesurfer_v7",
        "rsfmri_preproc_v1",
        "tfmri_preproc_v1",
    ]
    rs = next(p for p in procs if p.proctype == "rsfmri_preproc_v1")
    assert rs.upstream_proctypes == {"freesurfer_v7"}


def test_proctype_and_version_come_from_the_file_name() -> None:
    """`fs_v7.2.0.yaml` is proctype fs_v7, version 7.2.0."""
    assert parse_file_name(Path("freesurfer_v7.2.0.yaml")) == ("freesurfer_v7", "7.2.0")
    assert parse_file_name(Path("my-proc_v2.0.1-rc.1.yaml")) == ("my-proc_v2", "2.0.1-rc.1")


def test_bad_file_name_is_an_error(tmp_path: Path) -> None:
    """A file not named <name>_v<X.Y.Z>.yaml is refused with the rule in the message."""
    path = write(tmp_path, "freesurfer.yaml", MINIMAL)
    with pytest.raises(ProcessorError, match=r"_v<X.Y.Z>.yaml"):
        load_processor(path)


def test_unknown_key_names_line_field_and_suggestion(tmp_path: Path) -> None:
    """A misspelt key is an error at its own line with a did-you-mean."""
    text = MINIMAL.replace("        types: T1w\n", "        types: T1w\n        neds_qc: true\n")
    path = write(tmp_path, "p_v1.0.0.yaml", text)
    with pytest.raises(ProcessorError) as info:
        load_processor(path)
    (issue,) = info.value.issues
    assert (issue.line, issue.field) == (9, "inputs.xnat.scans[0].neds_qc")
    assert "did you mean 'needs_qc'?" in issue.message
    assert str(issue).startswith(f"{path}:9: inputs.xnat.scans[0].neds_qc: unknown key")


def test_bad_value_names_its_line(tmp_path: Path) -> None:
    """A wrong enum value is reported at the line of that value."""
    text = MINIMAL.replace("            fdest: t1.nii.gz", "            ftype: FOLDER")
    path = write(tmp_path, "p_v1.0.0.yaml", text)
    with pytest.raises(ProcessorError) as info:
        load_processor(path)
    lines = {(i.line, i.field) for i in info.value.issues}
    assert (11, "inputs.xnat.scans[0].resources[0].ftype") in lines


def test_missing_required_field(tmp_path: Path) -> None:
    """A processor without a command says so, at the document's first line."""
    text = MINIMAL[: MINIMAL.index("command:")]
    path = write(tmp_path, "p_v1.0.0.yaml", text)
    with pytest.raises(ProcessorError) as info:
        load_processor(path)
    assert [(i.field, i.message) for i in info.value.issues] == [
        ("command", "required field is missing")
    ]


def test_unknown_placeholder_is_caught_at_load(tmp_path: Path) -> None:
    """A `{name}` no input, var or attr defines is a load-time error with a suggestion."""
    text = MINIMAL.replace("run {scan_t1-NIFTI-0}", "run {scan_t1-NIFTI-O}")
    path = write(tmp_path, "p_v1.0.0.yaml", text)
    with pytest.raises(ProcessorError) as info:
        load_processor(path)
    (issue,) = info.value.issues
    assert issue.field == "command.args"
    assert issue.line == 14
    assert "did you mean 'scan_t1-NIFTI-0'" in issue.message


def test_filter_must_name_inputs(tmp_path: Path) -> None:
    """A match filter naming an input that does not exist is an error on that filter."""
    text = MINIMAL.replace(
        "command:", "    filters:\n      - type: match\n        inputs: scan_t1,scan_t2\ncommand:"
    )
    path = write(tmp_path, "p_v1.0.0.yaml", text)
    with pytest.raises(ProcessorError, match=r"filters\[0\]\.inputs: no input named 'scan_t2'"):
        load_processor(path)


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    """Broken YAML is reported with the line the parser stopped at."""
    path = write(tmp_path, "p_v1.0.0.yaml", "command:\n  type: [shell\nlevel: scan\n")
    with pytest.raises(ProcessorError) as info:
        load_processor(path)
    assert info.value.issues[0].line == 3
    assert "invalid YAML" in info.value.issues[0].message


def test_shell_command_needs_no_container(tmp_path: Path) -> None:
    """A shell processor renders its script with quoted XNAT values and no container."""
    text = MINIMAL.replace(
        "command:\n  type: singularity_exec\n  args: run {scan_t1-NIFTI-0}\n",
        "command:\n  type: shell\n  script: echo {session} {scan_t1-NIFTI-0}\n",
    )
    proc = load_processor(write(tmp_path, "p_v1.0.0.yaml", text))
    cand = TaskCandidate(
        "p_v1", "session", "P", "S", "SUBJ", "E1", "x; rm -rf ~", None, (), CandidateDetail(())
    )
    task = build_task(proc, cand)
    assert task.container is None
    assert task.command_script == "echo 'x; rm -rf ~'\n"  # absent input renders empty


def test_singularity_command_is_rendered_as_dax_does(tmp_path: Path) -> None:
    """Default options bind INPUTS/OUTPUTS; the image path joins the container directory; the
    line is DAX's MAINCMD, evaluated as a DAX job evaluates it."""
    proc = load_processor(write(tmp_path, "p_v1.0.0.yaml", MINIMAL))
    cand = TaskCandidate(
        "p_v1", "session", "P", "S", "SUBJ", "E1", "SESS", None, (), CandidateDetail(())
    )
    task = build_task(proc, cand, container_dir="/images")
    assert task.container == "/images/c.sif"
    assert task.command_script == (
        'MAINCMD="singularity exec --contain --cleanenv --home $JOBDIR --bind $INDIR:/INPUTS '
        "--bind $OUTDIR:/OUTPUTS --bind $JOBDIR:/tmp --bind $JOBDIR:/dev/shm /images/c.sif run "
        '"\neval $MAINCMD\n'
    )


def _dep(tmp_path: Path, name: str, upstream: str) -> Path:
    text = f"""\
inputs:
  xnat:
    assessors:
      - name: up
        proctypes: {upstream}
command:
  type: shell
  script: echo
"""
    return write(tmp_path, name, text)


def test_dependency_cycle_names_the_processors(tmp_path: Path) -> None:
    """Two processors that take each other's assessors are refused, naming both."""
    _dep(tmp_path, "a_v1.0.0.yaml", "b_v1")
    _dep(tmp_path, "b_v1.0.0.yaml", "a_v1")
    with pytest.raises(ProcessorCycleError) as info:
        load_processors([tmp_path])
    assert set(info.value.cycle) == {"a_v1", "b_v1"}
    assert "a_v1" in str(info.value)
    assert "b_v1" in str(info.value)


def test_duplicate_proctype_is_refused(tmp_path: Path) -> None:
    """Two files with the same proctype (different versions) cannot both be loaded."""
    write(tmp_path, "p_v1.0.0.yaml", MINIMAL)
    write(tmp_path, "p_v1.1.0.yaml", MINIMAL)
    with pytest.raises(ProcessorError, match="proctype p_v1 is also defined"):
        load_processors([tmp_path])
