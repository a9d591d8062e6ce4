"""
Provenance and staleness on the loopback Slurm: a two-level pipeline completes, each result
with its record; one input file is uploaded again with other content, and exactly that
session's result and its downstream are stale (as `status --stale`, `rerun --stale` and the
status page's JSON all say); a policy reruns exactly those two, whose records then show the new
input; a changed processor makes every one of its results stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from aspider.plan import find_stale, note_text, read_made_from
from aspider.processors import Processor, load_processors, with_stale_policy
from aspider.run.backends import SchedulerBackend
from aspider.run.sweep import sweep_until_done
from tests.aspider.processes import clean_env, run_aspider, xnat_over_tcp
from tests.aspider.procs import COUNTS_BYTES, write_two_steps
from xnat_client import Assessor, ResourceRef, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


def _processors(folder: Path, script: str = COUNTS_BYTES) -> list[Processor]:
    return load_processors([write_two_steps(folder, script)])


def _results(snapshot: Any) -> dict[tuple[str, str], Assessor]:
    """(session label, proctype) -> its assessor."""
    return {(s.label, a.proctype): a for s in snapshot.sessions for a in s.assessors}


async def _provenance(xnat: XnatClient, a: Assessor) -> dict[str, Any]:
    got = bytearray()

    async def sink(chunk: bytes) -> None:
        got.extend(chunk)

    ref = ResourceRef.assessor_output(a.session_id, a.id, "OUTLOG")
    await xnat.download_file(ref, "provenance.json", sink)
    found: dict[str, Any] = json.loads(got)
    return found


async def test_a_changed_input_makes_exactly_its_results_stale_and_the_policy_reruns_them(
    server: XnatServer, xnat: XnatClient, slurm_backend: SchedulerBackend, tmp_path: Path
) -> None:
    generate_project(server, "P1", sessions=2, assessors_per_session=0, seed=5)
    procs = _processors(tmp_path / "procs")
    with anyio.fail_after(300):
        await sweep_until_done(xnat, slurm_backend, "P1", procs, interval=1)
    before = _results(await xnat.project_snapshot("P1"))
    assert len(before) == 4
    assert all(a.procstatus == "COMPLETE" for a in before.values()), before
    sessions = sorted({s for s, _ in before})
    changed, kept = sessions

    # Every result says what made it: in its note (what a sweep reads) and in its record.
    up = before[(changed, "up_v1")]
    made = read_made_from(up.note)
    assert made is not None, up.note
    assert note_text(up.note) == ""
    record = await _provenance(xnat, up)
    assert record["processor"]["name"] == "up_v1"
    assert record["processor"]["definition_sha256"].startswith(made.processor)
    assert len(record["processor"]["file_sha256"]) == 64
    (scan_input,) = record["inputs"]
    (nifti,) = scan_input["resources"]
    (staged,) = nifti["files"]
    assert staged["staged_as"] == "INPUTS/t1.nii.gz"
    assert staged["size"] == nifti["file_size"]
    assert record["job"]["job_id"] == up.jobid
    assert record["job"]["scheduler"] == "slurm"
    assert record["job"]["exit_code"] == 0
    assert record["job"]["node"]
    assert record["job"]["attempts"][0].startswith("attempt 1: 128 MB")
    down_record = await _provenance(xnat, before[(changed, "down_v1")])
    assert down_record["inputs"][0]["job_id"] == up.jobid

    # One input file uploaded again, with other content.
    scan_id = scan_input["path"].rsplit("/", 1)[1]
    ref = ResourceRef.scan(up.session_id, scan_id, "NIFTI")
    (old_file,) = list(await xnat.list_files(ref))
    await xnat.upload_file(ref, old_file.name, b"\x1f\x8b" + b"other" * 100, overwrite=True)

    with xnat_over_tcp(server) as url:
        env = clean_env(
            tmp_path,
            ASPIDER_XNAT__URL=url,
            ASPIDER_XNAT__USER="admin",
            ASPIDER_XNAT__PASSWORD="admin",
            ASPIDER_PROCESSOR_PATHS=json.dumps([str(tmp_path / "procs")]),
        )
        listed = run_aspider(["status", "P1", "--stale", "--json"], env, tmp_path)
        text = run_aspider(["status", "P1", "--stale"], env, tmp_path)
        page = run_aspider(["report", "P1"], env, tmp_path)  # /api/v1/status's document
        would = run_aspider(["rerun", "P1", "--stale", "--dry-run", "--json"], env, tmp_path)
        explained = run_aspider(["explain", "P1", changed], env, tmp_path)
        dry = run_aspider(["run", "P1", "--dry-run", "--json"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    stale = json.loads(listed.stdout)["stale"]
    expected = {before[(changed, "up_v1")].label, before[(changed, "down_v1")].label}
    assert {line["label"] for line in stale} == expected
    by_label = {line["label"]: line for line in stale}
    assert by_label[up.label]["kinds"] == ["inputs"]
    assert "NIFTI changed" in by_label[up.label]["reason"]
    assert by_label[before[(changed, "down_v1")].label]["kinds"] == ["upstream"]
    assert f"upstream stale ({up.label})" in by_label[before[(changed, "down_v1")].label]["reason"]
    assert text.returncode == 0, text.stderr
    for label in expected:  # one line each, with its reason
        (line,) = [x for x in text.stdout.splitlines() if x.startswith(label)]
        assert by_label[label]["reason"] in line
    (status,) = json.loads(page.stdout)["projects"]
    assert status["stale_counts"] == {"up_v1": 1, "down_v1": 1}
    assert {line["label"] for line in status["stale"]} == expected
    assert would.returncode == 0, would.stderr
    assert set(json.loads(would.stdout)["would_send_back"]) == expected
    assert explained.returncode == 0, explained.stderr
    assert f"stale: {by_label[up.label]['reason']}" in explained.stdout
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)["staleness"]["stale"]
    assert {r["assessor"]["label"] for r in planned} == expected

    # The policy reruns exactly those two; their records show the new input.
    policy = [with_stale_policy(p, ["inputs", "upstream"]) for p in procs]
    with anyio.fail_after(300):
        reports = await sweep_until_done(xnat, slurm_backend, "P1", policy, interval=1)
    reran = [a.assessor.label for r in reports for a in r.plan.actions() if a.kind == "rerun"]
    assert sorted(reran) == sorted(expected)
    after = _results(await xnat.project_snapshot("P1"))
    assert all(a.procstatus == "COMPLETE" for a in after.values()), after
    for key, a in after.items():
        assert (a.jobid != before[key].jobid) == (key[0] == changed), key
    new_record = await _provenance(xnat, after[(changed, "up_v1")])
    (new_nifti,) = new_record["inputs"][0]["resources"]
    assert new_nifti["file_size"] == new_nifti["files"][0]["size"] == 2 + 500
    assert new_nifti["file_size"] != nifti["file_size"]
    assert find_stale([await xnat.project_snapshot("P1")], procs).stale == ()
    # Its history says why it ran again.
    rerun_up = after[(changed, "up_v1")]
    steps = await xnat.list_workflows("up_v1", rerun_up.id)
    said = [f"{w.step_description} {w.comments} {w.details}" for w in steps]
    assert any("stale (inputs:" in line and "rerun_stale" in line for line in said), said

    # The processor file changed: every result of it is stale, for that reason.
    changed_procs = _processors(tmp_path / "procs", script=COUNTS_BYTES + " && echo v2 >> x")
    found = find_stale([await xnat.project_snapshot("P1")], changed_procs)
    reasons = {(r.proctype, r.session): r.kinds for r in found.stale}
    assert reasons == {
        ("up_v1", changed): {"processor"},
        ("up_v1", kept): {"processor"},
        ("down_v1", changed): {"upstream"},
        ("down_v1", kept): {"upstream"},
    }
