"""
DAX's `edits`: people's manual edits in the assessor's EDITS resource reach the job when it is
run again, as a DAX job gets them, and a rerun keeps them.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from aspider.processors import load_processors
from aspider.run.backends import LocalBackend
from aspider.run.sweep import sweep_until_done
from pbs import LocalTransport
from xnat_client import Assessor, AssessorFields, ResourceRef, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio

PROCESSOR = """\
procyamlversion: 3.0.0-dev.0
requirements: {walltime: '0-00:05', memory: 128M, ppn: 1}
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1w
        keep_multis: first
        resources:
          - resource: NIFTI
            fmatch: '*.nii.gz'
            fdest: t1.nii.gz
    edits:
      - fpref: brainmask
        varname: mask_edit
      - fpref: wm
        varname: wm_edit
outputs:
  - stats: out.txt
command:
  type: shell
  script: |
    mask={mask_edit}
    wm={wm_edit}
    if [ -n "$mask" ]; then got="$mask $(cat "$INDIR/brainmask")"; else got=none; fi
    echo "$got wm=[$wm]" > "$OUTDIR/out.txt"
"""


async def _swept(xnat: XnatClient, root: Path, proc_dir: Path) -> Assessor:
    (proc,) = load_processors([proc_dir / "edited_v1.0.0.yaml"])
    with anyio.fail_after(60):
        async with LocalTransport() as transport:
            backend = LocalBackend(transport, str(root))
            await sweep_until_done(xnat, backend, "P1", [proc], interval=0.2, max_sweeps=40)
    (a,) = [a for s in (await xnat.project_snapshot("P1")).sessions for a in s.assessors]
    return a


async def _out(xnat: XnatClient, a: Assessor, tmp_path: Path) -> str:
    dest = tmp_path / f"out-{a.jobid}.txt"
    await xnat.download_to_path(
        ResourceRef.assessor_output(a.session_id, a.id, "STATS"), "out.txt", dest
    )
    return dest.read_text()


async def test_edits_reach_the_rerun_job_and_survive_the_rerun(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """First run: no EDITS, the variables are empty. A person uploads edits and sets QC to
    Rerun: the rerun keeps EDITS, stages the last `brainmask*` file as INPUTS/brainmask, and
    the job sees `/INPUTS/brainmask`; an edit with no file stays empty."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=4)
    procs = tmp_path / "procs"
    procs.mkdir()
    (procs / "edited_v1.0.0.yaml").write_text(PROCESSOR)
    root = tmp_path / "work"
    first = await _swept(xnat, root, procs)
    assert first.procstatus == "COMPLETE", first.note
    assert await _out(xnat, first, tmp_path) == "none wm=[]\n"

    edits = ResourceRef.assessor_output(first.session_id, first.id, "EDITS")
    for name, body in (("brainmask_1.mgz", b"first"), ("brainmask_2.mgz", b"second"),
                       ("notes.txt", b"no prefix")):  # fmt: skip
        await xnat.upload_file(edits, name, body)
    await xnat.update_assessor(first.session_id, first.id, AssessorFields(qcstatus="Rerun"))

    again = await _swept(xnat, root, procs)
    assert (again.procstatus, again.qcstatus) == ("COMPLETE", "Needs QA"), again.note
    assert sorted(again.resources) == ["EDITS", "OUTLOG", "STATS"]  # OUTLOG: the provenance
    assert await _out(xnat, again, tmp_path) == "/INPUTS/brainmask second wm=[]\n"
    kept = {f.name for f in await xnat.list_files(edits)}
    assert kept == {"brainmask_1.mgz", "brainmask_2.mgz", "notes.txt"}
