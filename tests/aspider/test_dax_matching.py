"""DAX's meaning at plan and job time: PET inputs, QC gates, file counts, attrs, the command as
DAX's MAINCMD evaluates it, and where each input lands under INPUTS/."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from aspider.plan import build_task, fill_file_names, iter_scopes, match_scope
from aspider.plan.build import file_token
from aspider.plan.inputs_layout import place
from aspider.plan.tasks import InputResource, ResolvedInput
from aspider.processors import Processor, load_processor
from tests.aspider.snapshots import assessor, scan, scan_path, session, snapshot
from xnat_client import FileEntry, ProjectSnapshot, Session

OURS = Path(__file__).parents[1] / "dax_compat" / "processors"

HOSTILE = 'it\'s $(touch /tmp/aspider-pwned-dax) `x` "q"'


def ours(name: str) -> Processor:
    return load_processor(OURS / name)


def pet_subject() -> ProjectSnapshot:
    """An MR baseline, a later MR follow-up and a PET session of the same subject."""
    t1 = (scan("1", "T1"),)
    mr1 = session("E1", "MR1", scans=t1, date="2020-01-01")
    mr2 = session("E2", "MR2", scans=t1, date="2021-01-01")
    pet = session(
        "E3",
        "PET1",
        scans=(scan("5", "PET_AC"),),
        date="2020-02-01",
        xsi_type="xnat:petSessionData",
    ).model_copy(update={"tracer": "FDG-18"})
    return snapshot(mr1, mr2, pet)


def test_pet_scans_reach_the_subjects_first_mr_session_only() -> None:
    """The PET session is not a scope; its FDG scan is offered to the first MR session; the
    follow-up finds no PET scan, so nothing applies there."""
    proc = ours("pet_v1.0.0.yaml")
    results = {s.anchor.label: match_scope(proc, s) for s in iter_scopes(pet_subject(), "session")}
    assert set(results) == {"MR1", "MR2"}
    (cand,) = results["MR1"].candidates
    assert cand.inputs_map()["scan_pet"] == scan_path("5", sess="PET1")
    assert results["MR2"].candidates == ()
    assert results["MR2"].not_applicable is not None


def test_pet_tracer_must_match() -> None:
    """A PET session whose tracer matches none of `tracer`'s globs offers nothing."""
    snap = pet_subject()
    other = snap.sessions[2].model_copy(update={"tracer": "PIB"})
    snap = snap.model_copy(update={"sessions": (*snap.sessions[:2], other)})
    first = next(iter_scopes(snap, "session"))
    assert match_scope(ours("pet_v1.0.0.yaml"), first).candidates == ()


def upstream_session(procstatus: str, qcstatus: str) -> Session:
    fs = assessor(
        "P-x-SUBJ1-x-SESS1-x-fsup_v1-x-00000001",
        "fsup_v1",
        {"scan_t1": scan_path("301")},
        procstatus=procstatus,
        qcstatus=qcstatus,
        resources=("SUBJ", "STATS", "PDF"),
    )
    return session(scans=(scan("301", "T1"),), assessors=(fs,))


@pytest.mark.parametrize(
    ("procstatus", "qcstatus", "gated", "plain"),
    [
        ("COMPLETE", "Passed", True, True),
        ("COMPLETE", "Questionable", True, True),
        ("COMPLETE", "", True, True),
        ("COMPLETE", "Needs QA", False, True),
        ("COMPLETE", "Failed-needs reprocessing", False, True),
        ("COMPLETE", "Failed", False, True),
        ("COMPLETE", "bad registration", False, True),
        ("COMPLETE", "Do Not Run", False, True),
        ("COMPLETE", "Job Pending", False, False),
        ("COMPLETE", "Rerun", False, False),
        ("JOB_RUNNING", "Job Pending", False, False),
        ("JOB_FAILED", "", False, False),
        ("NEED_INPUTS", "", False, False),
        ("NO_DATA", "Passed", True, True),
    ],
)
def test_upstream_assessors_gate_as_dax_decides(
    procstatus: str, qcstatus: str, gated: bool, plain: bool
) -> None:
    """Unfinished tasks and QC Job Pending/Rerun always wait; with needs_qc also Needs QA,
    Failed-needs reprocessing, failed/bad/poor first words and Do Not Run; the rest pass."""
    scope = next(iter_scopes(snapshot(upstream_session(procstatus, qcstatus)), "session"))
    for name, expected in (("qcgate_v1.0.0.yaml", gated), ("fsdown_v1.0.0.yaml", plain)):
        (cand,) = match_scope(ours(name), scope).candidates
        assert cand.ready is expected, (name, cand.reasons)


def fmri(quality: str) -> ProjectSnapshot:
    return snapshot(session(scans=(scan("7", "rest_bold", quality=quality),)))


def test_require_usable_with_needs_qc_takes_only_usable_scans() -> None:
    """`needs_qc` + `require_usable`: a questionable scan waits, a usable one runs."""
    proc = ours("usable_v1.0.0.yaml")
    for quality, ready in (("usable", True), ("questionable", False), ("unusable", False)):
        (cand,) = match_scope(proc, next(iter_scopes(fmri(quality), "session"))).candidates
        assert cand.ready is ready, quality


def test_two_files_for_one_file_input_block_at_plan_time() -> None:
    """A FILE input taking every file of a two-file resource is NEED_INPUTS from the snapshot's
    count (DAX's "multiple files"), not a submission that fails at staging."""
    proc = ours("multi_v1.0.0.yaml")
    for count, reasons in ((1, ()), (2, ("scan_dwi-NIFTI-0: multiple files",))):
        sess = session(scans=(scan("9", "DWI", resources={"NIFTI": count}),))
        (cand,) = match_scope(proc, next(iter_scopes(snapshot(sess), "session"))).candidates
        assert tuple(r.split(" (")[0] for r in cand.reasons) == reasons


def anat_task(session_label: str, sidecar: str = "a.json") -> tuple[str, str]:
    """The anat_v1 task on one session: (its label, its command script with the sidecar file
    staging chose)."""
    t1 = scan("301", "T1", resources={"NIFTI": 1, "JSON": 2})
    snap = snapshot(session(label=session_label, scans=(t1,)))
    proc = ours("anat_v1.0.0.yaml")
    (cand,) = match_scope(proc, next(iter_scopes(snap, "session"))).candidates
    assert cand.ready, cand.reasons
    task = build_task(proc, cand, container_dir="/images")
    assert "@@aspider-file:q:sidecar@@" in task.command_script  # named once staging chose it
    return task.label, fill_file_names(task.command_script, {"sidecar": sidecar})


def run_job_command(script: str, tmp_path: Path) -> list[list[str]]:
    """Run a task's command as the job wrapper does (sh), with `singularity` recording argv."""
    stub = tmp_path / "bin" / "singularity"
    stub.parent.mkdir()
    stub.write_text(
        '#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done >> "$ARGV"\necho >> "$ARGV"\n'
    )
    stub.chmod(0o755)
    env = {
        "PATH": f"{stub.parent}:/usr/bin:/bin",
        "ARGV": str(tmp_path / "argv"),
        "JOBDIR": "/job",
        "INDIR": "/job/INPUTS",
        "OUTDIR": "/job/OUTPUTS",
    }
    subprocess.run(["sh", "-c", script], env=env, cwd=tmp_path, check=True)
    lines = (tmp_path / "argv").read_text().split("\n")
    return [line.split("\0")[:-1] for line in lines if line]


def test_command_runs_as_dax_maincmd_evaluates_it(tmp_path: Path) -> None:
    """pre, command, post in one MAINCMD: `\\$PATH` expands in the job, the quotes around
    {assessor} group it, attrs and vars are in place, `true` vars are empty."""
    label, script = anat_task("SESS1")
    assert script.startswith('MAINCMD="singularity exec ')
    assert script.endswith("\neval $MAINCMD\n")
    pre, main, post = run_job_command(script, tmp_path)
    assert pre[-4:] == ["/images/tools_v1.sif", "mkdir", "-p", "/OUTPUTS/SUBJ"]
    assert main[main.index("--label") + 1] == label
    assert main[main.index("--where") + 1] == "P/SUBJ1/SESS1/301"
    path = main[main.index("--path") + 1]
    assert path == f"{tmp_path / 'bin'}:/usr/bin:/bin"
    assert main[main.index("--threshold") + 1 :] == ["0.5"]  # verbose: true and quiet: false
    assert main[main.index("--t1") + 1] == "/INPUTS/t1.nii.gz"
    assert main[main.index("--json") + 1] == "/INPUTS/a.json"
    assert post[-2:] == ["ls", "/OUTPUTS"]
    assert "/job/INPUTS:/INPUTS" in main


def test_a_hostile_session_label_is_one_argument_and_runs_nothing(tmp_path: Path) -> None:
    """A label or file name with quotes, `$(...)` and backticks reaches the container as
    itself, whole."""
    marker = Path("/tmp/aspider-pwned-dax")
    marker.unlink(missing_ok=True)
    _, script = anat_task(HOSTILE, sidecar=f"{HOSTILE}.json")
    _, main, _ = run_job_command(script, tmp_path)
    where = main[main.index("--where") + 1]
    assert where == f"P/SUBJ1/{HOSTILE}/301"
    assert main[main.index("--json") + 1] == f"/INPUTS/{HOSTILE}.json"
    assert not marker.exists()


def entry(name: str) -> FileEntry:
    return FileEntry(name=name, size=1, uri=f"/x/{name}")


def resource(**kw: object) -> InputResource:
    values: dict[str, object] = {
        "resource": "RES",
        "ftype": "FILE",
        "fmatch": "*",
        "fdest": None,
        "ddest": None,
        "fmulti": None,
        "required": True,
        "uri": "/u",
        "varname": "in-RES-0",
    }
    values.update(kw)
    return InputResource(**values)  # type: ignore[arg-type]


SCAN_INPUT = ResolvedInput("in", "scan", "/p", "E1", "SESS1", scan_id="3")
ASSR_INPUT = ResolvedInput(
    "in", "assessor", "/p", "E1", "SESS1", assessor_id="A1", assessor_label="P-x-S-x-SESS1-x-fs"
)
FILES = [entry("b/two.nii.gz"), entry("a/one.nii.gz"), entry("notes.txt")]


def targets(item: ResolvedInput, res: InputResource) -> list[tuple[str, str]]:
    return [(p.entry.name, p.target) for p in place(item, res, FILES)]


def test_file_inputs_land_as_one_file() -> None:
    """FILE: one file as its fdest or its own name; fmatch spans folders; any1 takes the first
    listed; a ddest is a folder under INPUTS."""
    assert targets(SCAN_INPUT, resource(fmatch="notes.txt")) == [("notes.txt", "notes.txt")]
    assert targets(SCAN_INPUT, resource(fmatch="*.nii.gz", fmulti="any1", fdest="t1.nii.gz")) == [
        ("b/two.nii.gz", "t1.nii.gz")
    ]
    assert targets(SCAN_INPUT, resource(fmatch="a/*", ddest="anat")) == [
        ("a/one.nii.gz", "anat/one.nii.gz")
    ]
    with pytest.raises(Exception, match="in-RES-0: multiple files"):
        targets(SCAN_INPUT, resource(fmatch="*.nii.gz"))


def test_folder_inputs_land_as_a_dax_job_unpacks_them() -> None:
    """DIRJ is flat under its fdest; DIR keeps the resource's name and paths."""
    flat = targets(SCAN_INPUT, resource(ftype="DIRJ", fmatch=None, fdest="all"))
    assert sorted(t for _, t in flat) == ["all/notes.txt", "all/one.nii.gz", "all/two.nii.gz"]
    tree = targets(ASSR_INPUT, resource(ftype="DIR", fmatch=None, fdest="fs"))
    assert sorted(t for _, t in tree) == [
        "fs/RES/a/one.nii.gz",
        "fs/RES/b/two.nii.gz",
        "fs/RES/notes.txt",
    ]
    assert {t for _, t in targets(SCAN_INPUT, resource(ftype="DIR", fmatch=None))} == {
        "RES/RES/a/one.nii.gz",
        "RES/RES/b/two.nii.gz",
        "RES/RES/notes.txt",
    }


def test_a_placeholder_of_an_input_that_staged_nothing_is_empty() -> None:
    """Names staging chose are filled, quoted for where they stand; a stand-in for an input that
    staged nothing (an optional resource that is not there) becomes empty, never reaching a job."""
    script = " ".join(
        [file_token("t1", False), f'"{file_token("t1", True)}"', file_token("opt-RES@x-1", False)]
    )
    assert fill_file_names(script, {"t1": "a b.nii"}) == "'a b.nii' \"'a b.nii'\" "
