"""Labels and file names XNAT holds but a path, a URL or a scheduler would choke on, over TCP."""

from __future__ import annotations

import gzip
from pathlib import Path

import anyio
import pytest

from aspider.plan import note_text, read_made_from
from aspider.processors import Processor
from aspider.run.backends import LocalBackend
from aspider.run.sweep import SweepOptions, sweep_until_done
from pbs import LocalTransport
from tests.engine.conftest import shell_processor
from xnat_client import Assessor, XnatClient
from xnat_client.sandbox import XnatServer

pytestmark = pytest.mark.anyio

STAGE_ALL = """|
    ls "$INDIR" > "$OUTDIR/out.txt"
"""


def _project(server: XnatServer, session_label: str, files: dict[str, bytes]) -> None:
    store = server.store
    store.add_project("P1")
    subject = store.add_subject("P1", "S1")
    session = store.add_session(subject, session_label, date="2024-01-01")
    scan = store.add_scan(session, "1", type="T1w", quality="usable")
    store.add_resource(scan.resources, "NIFTI", "NIFTI", "RAW", files)


async def _sweep(xnat: XnatClient, procs: list[Processor], root: Path) -> None:
    async with LocalTransport() as transport:
        backend = LocalBackend(transport, str(root))
        with anyio.fail_after(120):
            await sweep_until_done(xnat, backend, "P1", procs, SweepOptions(), interval=0.2)


async def _ours(xnat: XnatClient) -> list[Assessor]:
    return [a for s in (await xnat.project_snapshot("P1")).sessions for a in s.assessors]


async def test_a_session_label_with_a_slash_still_chains_its_report(
    server: XnatServer, tcp_xnat: XnatClient, demo_processors: list[Processor], tmp_path: Path
) -> None:
    """Chaining plans the session from the sweep's own writes: no read by label, no error."""
    _project(server, "baseline/2024", {"t1.nii.gz": gzip.compress(bytes(range(64)))})
    await _sweep(tcp_xnat, demo_processors, tmp_path / "work")
    ours = await _ours(tcp_xnat)
    assert sorted(a.proctype for a in ours) == ["imgstats_v1", "sessreport_v1"]
    assert {a.procstatus for a in ours} == {"COMPLETE"}, [a.note for a in ours]


async def test_a_300_character_session_label_runs_under_a_short_job_name(
    server: XnatServer, tcp_xnat: XnatClient, tmp_path: Path
) -> None:
    """The label is longer than any scheduler takes: the job runs under its stable short form."""
    lister = shell_processor(tmp_path / "processors", "lister", STAGE_ALL)
    _project(server, "L" * 300, {"t1.nii.gz": b"image"})
    root = tmp_path / "work"
    await _sweep(tcp_xnat, [lister], root)
    (a,) = await _ours(tcp_xnat)
    assert len(a.label) > 300
    assert (a.procstatus, note_text(a.note)) == ("COMPLETE", "")  # the records alone
    assert read_made_from(a.note) is not None
    assert a.jobid.endswith(".local")


async def test_a_file_name_with_a_backslash_is_staged(
    server: XnatServer, tcp_xnat: XnatClient, tmp_path: Path
) -> None:
    """A backslash is an ordinary character of a file name: staged, and the task completes."""
    script = """|
    ls "$INDIR" > "$OUTDIR/out.txt"
"""
    folder = tmp_path / "processors"
    folder.mkdir()
    (folder / "dirin_v1.0.0.yaml").write_text(DIR_PROCESSOR % script)
    from aspider.processors import load_processors

    procs = load_processors([folder])
    _project(server, "S1_MR1", {"a\\b.nii.gz": b"image", "plain.nii.gz": b"image"})
    await _sweep(tcp_xnat, procs, tmp_path / "work")
    (a,) = await _ours(tcp_xnat)
    assert (a.procstatus, note_text(a.note)) == ("COMPLETE", "")  # the records alone
    assert read_made_from(a.note) is not None


async def test_a_file_name_with_a_control_character_is_refused_with_the_true_reason(
    server: XnatServer, tcp_xnat: XnatClient, tmp_path: Path
) -> None:
    """A newline in a file name: NEED_INPUTS saying so (not a slash, not a failure)."""
    folder = tmp_path / "processors"
    folder.mkdir()
    (folder / "dirin_v1.0.0.yaml").write_text(DIR_PROCESSOR % STAGE_ALL)
    from aspider.processors import load_processors

    procs = load_processors([folder])
    _project(server, "S1_MR1", {"bad\nname.nii.gz": b"image"})
    await _sweep(tcp_xnat, procs, tmp_path / "work")
    (a,) = await _ours(tcp_xnat)
    assert a.procstatus == "NEED_INPUTS"
    assert "control character" in a.note
    assert "slash" not in a.note


DIR_PROCESSOR = """\
procyamlversion: 3.0.0-dev.0
level: scan
requirements: {walltime: '0-00:05', memory: 128M, ppn: 1}
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1w
        resources:
          - resource: NIFTI
            ftype: DIR
            fdest: t1
outputs:
  - stats: out.txt
command:
  type: shell
  script: %s
"""


async def test_a_listing_hung_past_the_read_timeout_is_retried_and_the_run_counts_it(
    server: XnatServer, tmp_path: Path
) -> None:
    """A project listing that hangs: retried after the read timeout; the sweeps all counted."""
    from xnat_client import Credentials, RetryPolicy, Timeouts
    from xnat_client.sandbox import serve_tcp

    lister = shell_processor(tmp_path / "processors", "lister", STAGE_ALL)
    _project(server, "S1_MR1", {"t1.nii.gz": b"image"})
    server.faults.hang_seconds = 30
    server.faults.path_pattern = r"^/data/projects/P1/experiments$"
    server.faults.inject("timeout", count=1)
    async with serve_tcp(server) as url:
        client = XnatClient(
            url,
            credentials=Credentials.password("admin", "admin"),
            timeouts=Timeouts(read=1.0),
            retry=RetryPolicy(attempts=3, backoff_initial=0.05, budget=0.5),
        )
        async with client, LocalTransport() as transport:
            backend = LocalBackend(transport, str(tmp_path / "work"))
            with anyio.fail_after(120):
                reports = await sweep_until_done(
                    client, backend, "P1", [lister], SweepOptions(), interval=0.2
                )
            (a,) = [x for s in (await client.project_snapshot("P1")).sessions for x in s.assessors]
    assert (a.procstatus, note_text(a.note)) == ("COMPLETE", "")  # the records alone
    assert read_made_from(a.note) is not None
    assert any(r.fault == "timeout" for r in server.requests)
    assert sum(r.outcome.counts[("lister_v1", "completed")] for r in reports) == 1
