"""Small processors built in code for matching and planning tests."""

from __future__ import annotations

from pathlib import Path

from aspider.processors import Processor, parse_processor_text

_T1 = """\
priority: {priority}
level: {level}
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1w,MPRAGE*
        needs_qc: {needs_qc}
        skip_unusable: {skip_unusable}
        keep_multis: {keep_multis}
        resources:
          - resource: NIFTI
            fmatch: '*.nii.gz'
            fdest: t1.nii.gz
outputs:
  - stats: stats.txt
command:
  type: shell
  script: run-fs {{session}} /INPUTS/t1.nii.gz
"""

_DOWNSTREAM = """\
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1w,MPRAGE*
        resources:
          - resource: NIFTI
            fdest: t1.nii.gz
    assessors:
      - name: assr_fs
        proctypes: fs_v7
        needs_qc: {needs_qc}
        resources:
          - resource: STATS
            fdest: stats
    filters:
      - type: match
        inputs: scan_t1,assr_fs/scan_t1
command:
  type: shell
  script: downstream
"""


def t1_processor(
    *,
    proctype: str = "fs_v7",
    level: str = "session",
    needs_qc: bool = False,
    skip_unusable: bool = False,
    keep_multis: str = "all",
    priority: int = 0,
    max_queued: int | None = None,
    retry: str | None = None,
) -> Processor:
    text = _T1.format(
        level=level,
        needs_qc=str(needs_qc).lower(),
        skip_unusable=str(skip_unusable).lower(),
        keep_multis=keep_multis,
        priority=priority,
    )
    if max_queued is not None:
        text = f"max_queued: {max_queued}\n" + text
    if retry is not None:
        text = f"retry: {retry}\n" + text
    spec = parse_processor_text(text, f"{proctype}.yaml")
    return Processor(spec, proctype=proctype, procversion="7.0.0")


def downstream_processor(*, needs_qc: bool = True) -> Processor:
    spec = parse_processor_text(_DOWNSTREAM.format(needs_qc=str(needs_qc).lower()), "down.yaml")
    return Processor(spec, proctype="down_v1", procversion="1.0.0")


# A two-step pipeline of files on disk, for staleness end to end: `up_v1` reads a T1w scan's
# NIFTI, `down_v1` reads up_v1's STATS.
TWO_STEP_UPSTREAM = """\
level: session
requirements: {{walltime: '0-00:05', memory: 128M}}
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1w
        keep_multis: first
        resources:
          - {{resource: NIFTI, fmatch: '*.nii.gz', fdest: t1.nii.gz}}
outputs:
  - stats: out.txt
command:
  type: shell
  script: |
    {script}
"""
TWO_STEP_DOWNSTREAM = """\
level: session
requirements: {walltime: '0-00:05', memory: 128M}
inputs:
  xnat:
    assessors:
      - name: assr_up
        proctypes: up_v1
        needs_qc: false
        resources:
          - {resource: STATS, fmatch: out.txt, fdest: up.txt}
outputs:
  - stats: out.txt
command:
  type: shell
  script: |
    cat "$INDIR/up.txt" > "$OUTDIR/out.txt"
"""
COUNTS_BYTES = 'wc -c < "$INDIR/t1.nii.gz" > "$OUTDIR/out.txt"'


def write_two_steps(folder: Path, script: str = COUNTS_BYTES) -> Path:
    """The pipeline's two files in `folder` (up_v1's command `script`); the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "up_v1.0.0.yaml").write_text(TWO_STEP_UPSTREAM.format(script=script))
    (folder / "down_v1.0.0.yaml").write_text(TWO_STEP_DOWNSTREAM)
    return folder
