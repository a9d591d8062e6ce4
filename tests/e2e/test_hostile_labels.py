"""Hostile subject, session and file names end to end: through XNAT, SFTP, qsub and back."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from aspider.processors import Processor, load_processors
from aspider.run.backends import SchedulerBackend
from aspider.run.sweep import SweepOptions, sweep_until_done
from xnat_client import ResourceRef, XnatClient
from xnat_client.sandbox import XnatServer

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

HOSTILE = [
    'it\'s "quoted"',
    "a;touch /tmp/aspider-pwned-1",
    "$(touch /tmp/aspider-pwned-2)",
    "`touch /tmp/aspider-pwned-3`",
    "spaces and ünïcödé ✓",
    "../../etc",
]
MARKERS = [Path(f"/tmp/aspider-pwned-{i}") for i in (1, 2, 3)]

# The command echoes every label-derived placeholder: quoted by the renderer, never executed.
ECHO = """\
procyamlversion: 3.0.0-dev.0
requirements: {walltime: '0-00:05', memory: 128M, ppn: 1}
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1w
        resources:
          - resource: NIFTI
            fmatch: '*'
            ftype: DIR
            fdest: t1
outputs:
  - stats: labels.txt
command:
  type: shell
  script: |
    printf '%s\\n' {subject} {session} > "$OUTDIR/labels.txt"
    ls "$INDIR/t1" >> "$OUTDIR/labels.txt"
"""


def _planted() -> list[Path]:
    """Marker files an injected command would have created."""
    return [m for m in MARKERS if m.exists()]


def _hostile_project(server: XnatServer) -> None:
    store = server.store
    store.add_project("HOST")
    for i, label in enumerate(HOSTILE):
        subject = store.add_subject("HOST", f"subj {label}")
        session = store.add_session(subject, f"sess {label}", date=f"2024-01-{i + 1:02d}")
        scan = store.add_scan(session, "1", type="T1w", quality="usable")
        name = f"{label.replace('/', '_')}.nii.gz"
        store.add_resource(scan.resources, "NIFTI", "NIFTI", "RAW", {name: b"not an image"})


async def test_hostile_labels_run_to_complete_and_inject_nothing(
    server: XnatServer, xnat: XnatClient, pbs_backend: SchedulerBackend, tmp_path: Path
) -> None:
    """Every hostile session completes, its labels come back verbatim, no injected command ran."""
    for marker in _planted():
        marker.unlink()
    path = tmp_path / "echo_v1.0.0.yaml"
    path.write_text(ECHO)
    procs: list[Processor] = load_processors([path])
    _hostile_project(server)
    with anyio.fail_after(240):
        await sweep_until_done(
            xnat, pbs_backend, "HOST", procs, SweepOptions(), interval=1, max_sweeps=60
        )
    snap = await xnat.project_snapshot("HOST")
    assert len(snap.sessions) == len(HOSTILE)
    for session in snap.sessions:
        (a,) = session.assessors
        assert a.procstatus == "COMPLETE", (session.label, a.note)
        chunks: list[bytes] = []

        async def sink(chunk: bytes, into: list[bytes] = chunks) -> None:
            into.append(chunk)

        ref = ResourceRef.assessor_output(session.id, a.id, "STATS")
        await xnat.download_file(ref, "labels.txt", sink)
        lines = b"".join(chunks).decode().splitlines()
        assert lines[1] == session.label
        assert lines[0] == session.subject_label
    assert _planted() == []
