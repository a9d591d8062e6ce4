"""
aspider against DAX itself: the real `dax build` (DAX 2.21, its own venv) and `aspider run` on
the same sandbox project, served over TCP, with the same processor files of ours.

Compared: which assessors exist after a build and a dry run (by session, proctype and
`inputs`), their label form, their `inputs`, their status and reason; what each tool does with
what the other made (no second assessor either way); and, for every task both would run, the
files its command finds under INPUTS and the command line the container gets.

Where DAX 2.21 itself fails, aspider follows DAX's intent, and each such case is asserted as a
divergence below (so a DAX that fixes one shows up here).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.dax_compat.aspider_side import Planned, dry_run, real_run
from tests.dax_compat.dax_side import Built, DaxRun, dax_build, run_batches
from tests.dax_compat.sandbox import ALONE, PROJECT, SUBJECT_LEVEL, TOGETHER, USER, seed
from xnat_client.sandbox import XnatServer, serve_tcp

OURS = Path(__file__).resolve().parent / "processors"
STUB = Path(__file__).resolve().parent / "stub"
LABEL = re.compile(
    rf"^{PROJECT}-x-S1-x-(?P<session>S1_\w+)-x-(?P<proctype>\w+_v\d+)-x-[0-9a-f]{{8}}$"
)

# Where DAX 2.21 does not do what it means to, and what aspider does instead.
DIVERGENCES = {
    "long_v1": (
        "a subject processor: DAX 2.21's `dax build` passes DataFrames where its subject code "
        "iterates dicts (TypeError for the whole project, logged CRITICAL) and builds nothing; "
        "aspider makes the subject's proc:subjGenProcData as DAX's subject code means to"
    ),
    "qcgate_v1": (
        "needs_qc on an assessor input: DAX 2.21 raises NameError (FAILED_NEEDS_REPROC is never "
        "imported), leaving its assessor NEED_INPUTS with no QC status; aspider applies DAX's "
        "lists, and a Passed upstream runs"
    ),
}
# What a DAX job sees that an aspider job does not, on purpose.
STAGING_DIVERGENCES = {
    "dirscan_v1": (
        "a scan resource as DIR: DAX's job keeps XNAT's zip layout "
        "(<session>/scans/<ID>/<RESOURCE>/...), aspider stages it as <fdest>/<RESOURCE>/..."
    ),
}


@dataclass
class Sides:
    dax: DaxRun
    aspider: list[Planned]
    dax_seen: list[dict[str, Any]]  # the stub's lines from DAX's jobs
    aspider_seen: list[dict[str, Any]]  # the stub's lines from aspider's jobs
    after_dax: list[Planned]  # aspider's dry run over what dax build left
    dax_after_aspider: list[Built]  # dax build over what aspider's run left


def _key(session: str, proctype: str, inputs: dict[str, Any] | None) -> tuple[str, str, str]:
    return session, proctype, json.dumps(inputs or {}, sort_keys=True)


async def _both(files: list[Path], root: Path) -> Sides:
    stub_out_dax, stub_out_asp = root / "dax-stub.jsonl", root / "aspider-stub.jsonl"
    server = XnatServer(users={USER[0]: USER[1]})
    seed(server)
    async with serve_tcp(server) as url:
        (root / "dax").mkdir()
        dax = await dax_build(server, url, files, root / "dax")
        await run_batches(dax, root / "dax", url, STUB, stub_out_dax)
        (root / "after-dax").mkdir()
        after_dax = await dry_run(url, files, root / "after-dax")
    server = XnatServer(users={USER[0]: USER[1]})
    seed(server)
    async with serve_tcp(server) as url:
        (root / "aspider").mkdir()
        plan = await dry_run(url, files, root / "aspider")
        await real_run(url, files, root / "aspider", STUB, stub_out_asp)
        (root / "dax-after").mkdir()
        again = await dax_build(server, url, files, root / "dax-after")
    return Sides(dax, plan, _lines(stub_out_dax), _lines(stub_out_asp), after_dax, again.assessors)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def together() -> Iterator[Sides]:
    """Both tools on the processors DAX 2.21 builds side by side."""
    with tempfile.TemporaryDirectory(prefix="dax-diff-") as root:
        yield anyio.run(_both, [OURS / f for f in TOGETHER], Path(root))


@pytest.fixture(scope="module")
def alone() -> Iterator[Sides]:
    """Both tools on the processors DAX 2.21 raises on (each would end its session's build)."""
    with tempfile.TemporaryDirectory(prefix="dax-diff-") as root:
        yield anyio.run(_both, [OURS / f for f in ALONE], Path(root))


@pytest.fixture(scope="module")
def subject_level() -> Iterator[Sides]:
    """Both tools on a subject processor (`dax build` raises on it)."""
    with tempfile.TemporaryDirectory(prefix="dax-diff-") as root:
        yield anyio.run(_both, [OURS / f for f in SUBJECT_LEVEL], Path(root))


def _made_by_dax(sides: Sides) -> dict[tuple[str, str, str], Built]:
    seeded = {"fsup_v1", "anat_v1"}  # the sandbox's own assessors have their own labels
    return {
        _key(b.session, b.proctype, b.inputs): b
        for b in sides.dax.assessors
        if not (b.proctype in seeded and b.label.split("-x-")[-1] in ("0a1b2c3d", "99887766"))
    }


def _category(reason: str) -> str:
    """What a reason says, in words both tools' reasons share."""
    text = reason.lower()
    for words, name in (
        ("multiple files", "multiple files"),
        ("not marked usable", "not usable"),
        ("not usable", "not usable"),
        ("no resource", "no resource"),
        ("resource is empty", "no resource"),
    ):
        if words in text:
            return name
    if re.search(r"no \w+ resource", text):
        return "no resource"
    return text


def test_the_same_assessors_with_the_same_inputs(together: Sides) -> None:
    """dax build and aspider's dry run make the same assessors: same sessions, proctypes and
    `inputs` (the over-inputs-less DAX assessor on S1_MR2 gets none from either)."""
    dax = _made_by_dax(together)
    ours = {_key(p.session, p.proctype, p.inputs): p for p in together.aspider if p.procstatus}
    assert sorted(ours) == sorted(dax)
    assert not any(p.proctype == "anat_v1" and p.session == "S1_MR2" for p in together.aspider)


def test_labels_have_daxs_form(together: Sides) -> None:
    """Both label their assessors PROJ-x-SUBJ-x-SESS-x-PROCTYPE-x-<8 hex>."""
    for label, session, proctype in [
        *((b.label, b.session, b.proctype) for b in _made_by_dax(together).values()),
        *((p.label, p.session, p.proctype) for p in together.aspider),
    ]:
        found = LABEL.match(label)
        assert found is not None, label
        assert (found["session"], found["proctype"]) == (session, proctype)


def test_the_same_status_and_reason(together: Sides) -> None:
    """A task DAX writes a batch for (JOB_RUNNING) aspider submits; one DAX holds at
    NEED_INPUTS with a reason in its QC status aspider creates NEED_INPUTS with the same kind
    of reason in its note."""
    ours = {_key(p.session, p.proctype, p.inputs): p for p in together.aspider}
    for key, built in _made_by_dax(together).items():
        planned = ours[key]
        if built.procstatus == "JOB_RUNNING":
            assert (planned.procstatus, planned.submits) == ("NEED_TO_RUN", True), key
        else:
            assert (built.procstatus, planned.procstatus) == ("NEED_INPUTS", "NEED_INPUTS"), key
            assert planned.submits is False
            assert _category(planned.reason) == _category(built.qcstatus), (key, planned.reason)


def test_each_reads_what_the_other_made_and_adds_nothing(together: Sides) -> None:
    """Over DAX's build aspider creates no assessor DAX made; over aspider's run dax build
    creates nothing new (it parses aspider's `inputs` as its own)."""
    dax_keys = set(_made_by_dax(together))
    created = {_key(p.session, p.proctype, p.inputs) for p in together.after_dax if p.procstatus}
    assert created & dax_keys == set()
    assert created == set()
    ours = {_key(p.session, p.proctype, p.inputs) for p in together.aspider if p.procstatus}
    dax_now = {
        _key(b.session, b.proctype, b.inputs)
        for b in together.dax_after_aspider
        if LABEL.match(b.label) and b.proctype not in ("fsup_v1",)
    }
    labels = [b.label for b in together.dax_after_aspider if b.proctype != "fsup_v1"]
    assert len(labels) == len(set(labels))
    assert dax_now - ours <= {_key("S1_MR2", "anat_v1", None)}


def _seen(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The stub's record of each job's main command, by proctype (its last singularity call)."""
    found: dict[str, dict[str, Any]] = {}
    for line in lines:
        match = re.search(r"-x-(\w+_v\d+)-x-[0-9a-f]{8}", line["inputs_dir"])
        if match:
            found.setdefault(match[1], {"calls": []})["calls"].append(line)
    return found


def _normal(argv: list[str], inputs_dir: str, label: str) -> list[str]:
    """argv with the job's own directories and label put as tokens."""
    jobdir = inputs_dir.rsplit("/", 1)[0]
    return [a.replace(jobdir, "<JOBDIR>").replace(label, "<LABEL>") for a in argv]


def _label_of(inputs_dir: str) -> str:
    name = inputs_dir.rsplit("/", 2)[-2]
    return name.split(".", 1)[0]


def test_jobs_see_the_same_inputs_and_command(together: Sides) -> None:
    """For every task both run, its command finds the same files under INPUTS (DAX's job also
    keeps the zips it unpacked) and the container gets the same arguments."""
    dax, ours = _seen(together.dax_seen), _seen(together.aspider_seen)
    assert set(ours) == set(dax) == {"anat_v1", "fsdown_v1", "pet_v1", "dirscan_v1"}
    for proctype in sorted(dax):
        d_calls, a_calls = dax[proctype]["calls"], ours[proctype]["calls"]
        assert len(d_calls) == len(a_calls), proctype
        for d, a in zip(d_calls, a_calls, strict=True):
            d_argv = _normal(d["argv"], d["inputs_dir"], _label_of(d["inputs_dir"]))
            a_argv = _normal(a["argv"], a["inputs_dir"], _label_of(a["inputs_dir"]))
            assert a_argv == d_argv, proctype
            d_files = {k: v for k, v in d["files"].items() if not k.endswith(".zip")}
            if proctype in STAGING_DIVERGENCES:
                assert a["files"] != d_files, STAGING_DIVERGENCES[proctype]
                assert sorted(a["files"].values()) == sorted(d_files.values())
                continue
            assert a["files"] == d_files, proctype
    (main,) = ours["fsdown_v1"]["calls"]
    assert sorted(main["files"]) == [  # an upstream's DIR, DIRJ (flat) and FILE, and a scan
        "fs/SUBJ/mri/orig.mgz",
        "fs/SUBJ/surf/lh.white",
        "stats/aseg.stats",
        "stats/lh.stats",
        "t1.nii.gz",
        "upstream.pdf",
    ]


def test_where_dax_crashes_aspider_does_what_dax_means(alone: Sides) -> None:
    """needs_qc on an assessor input: DAX 2.21 raises (and says so in its log), its assessor
    stays NEED_INPUTS without a reason; aspider runs the task, its upstream's QC being Passed."""
    (built,) = _made_by_dax(alone).values()
    assert (built.proctype, built.procstatus, built.qcstatus) == ("qcgate_v1", "NEED_INPUTS", "")
    assert any("FAILED_NEEDS_REPROC" in line for line in alone.dax.critical)
    (planned,) = [p for p in alone.aspider if p.procstatus]
    assert (planned.proctype, planned.procstatus, planned.submits) == (
        "qcgate_v1",
        "NEED_TO_RUN",
        True,
    ), DIVERGENCES["qcgate_v1"]
    assert _key(planned.session, planned.proctype, planned.inputs) == _key(
        built.session, built.proctype, built.inputs
    )


def test_a_subject_processor_is_the_subjects_own_assessor(subject_level: Sides) -> None:
    """DAX 2.21's build raises on subject processors and makes nothing; aspider makes one
    proc:subjGenProcData per subject, labelled PROJ-x-SUBJ-x-PROCTYPE-x-<8 hex>, its inputs in
    the baseline and the follow-up session."""
    assert _made_by_dax(subject_level) == {}
    assert any("string indices must be integers" in c for c in subject_level.dax.critical)
    (planned,) = [p for p in subject_level.aspider if p.procstatus]
    assert re.match(rf"^{PROJECT}-x-S1-x-long_v1-x-[0-9a-f]{{8}}$", planned.label)
    assert (planned.procstatus, planned.submits) == ("NEED_TO_RUN", True), DIVERGENCES["long_v1"]
    assert planned.inputs == {
        "scan_base": f"/projects/{PROJECT}/subjects/S1/experiments/S1_MR1/scans/1",
        "scan_follow": f"/projects/{PROJECT}/subjects/S1/experiments/S1_MR2/scans/1",
    }
