"""
Planner benchmark: plan a 10,000-session project with the five example processors.

    .venv/bin/python -m benchmarks.plan_bench [--sessions 10000] [--repeat 3]

Two scenarios, both built in memory from the snapshot models (no XNAT, no I/O):
  new     no assessor exists: every task is matched, labelled, rendered and planned
          (create + submit, limited by max_queued)
  steady  every task already has a COMPLETE assessor (labels from a first plan):
          the nightly "nothing changed" sweep
Reports CPU seconds (time.process_time) of matching + planning, best of --repeat.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from aspider.plan import Plan, PlanLimits, match_snapshots_sync, plan
from aspider.plan.labels import normalise_inputs
from aspider.plan.settled import SettledMemo
from aspider.processors import load_processors
from xnat_client import Assessor, ProjectSnapshot, Resource, Scan, Session

EXAMPLES = Path(__file__).parents[1] / "examples" / "processors"
SCANS = (
    ("T1w", ("NIFTI",)),
    ("FLAIR", ("NIFTI",)),
    ("DWI", ("NIFTI",)),
    ("rsfMRI", ("NIFTI",)),
    ("fMRI_task_nback", ("NIFTI", "EDAT")),
    ("T2w", ("NIFTI",)),
)


def build_snapshot(
    sessions: int, assessors: dict[str, list[Assessor]] | None = None
) -> ProjectSnapshot:
    """A project of `sessions` MR sessions, two per subject, six scans each."""
    out = []
    for n in range(sessions):
        sid, subject = f"E{n:06d}", f"SUBJ{n // 2:05d}"
        scans = tuple(
            Scan(
                id=str(k + 1),
                type=kind,
                quality="usable",
                resources=tuple(Resource(label=r, file_count=1) for r in res),
            )
            for k, (kind, res) in enumerate(SCANS)
        )
        out.append(
            Session(
                id=sid,
                label=f"SESS{n:06d}",
                project="BENCH",
                subject_id=f"S{n // 2:05d}",
                subject_label=subject,
                date=f"20{10 + n % 14:02d}-01-01",
                xsi_type="xnat:mrSessionData",
                scans=scans,
                assessors=tuple((assessors or {}).get(sid, ())),
            )
        )
    return ProjectSnapshot(project="BENCH", sessions=tuple(out))


def complete_assessors(first: Plan, by_session: dict[str, list[Assessor]]) -> int:
    """Add a COMPLETE, QC-passed assessor for every task the plan creates; how many."""
    added = 0
    for action in first.actions():
        if action.kind != "create":
            continue
        t = action.task
        assr = Assessor(
            id=f"A_{t.label}",
            label=t.label,
            project=t.project,
            session_id=t.session_id,
            proctype=t.proctype,
            procversion=t.procversion,
            procstatus="COMPLETE",
            qcstatus="Passed",
            inputs=normalise_inputs(json.loads(t.inputs_json)),
            resources=tuple(o.resource for o in t.outputs),
        )
        by_session.setdefault(t.session_id, []).append(assr)
        added += 1
    return added


def steady_snapshot(sessions: int) -> ProjectSnapshot:
    """Every task of every processor COMPLETE (downstream ones too: plan until nothing is new)."""
    procs = load_processors([EXAMPLES])
    by_session: dict[str, list[Assessor]] = {}
    while True:
        snap = build_snapshot(sessions, by_session)
        if not complete_assessors(plan([snap], match_snapshots_sync([snap], procs)), by_session):
            return snap


def timed_plan(
    snapshot: ProjectSnapshot, repeat: int, remembered: dict[str, str] | None = None
) -> tuple[float, Plan]:
    """Best CPU time of match + plan; with `remembered`, as a sweep after a settled one."""
    procs = load_processors([EXAMPLES])
    best, result = float("inf"), None
    for _ in range(repeat):
        memo = None if remembered is None else SettledMemo(previous=remembered)
        start = time.process_time()
        matches = match_snapshots_sync([snapshot], procs, skip_settled=True, memo=memo)
        result = plan([snapshot], matches, (), PlanLimits(max_queued=500))
        best = min(best, time.process_time() - start)
    assert result is not None
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    new_snapshot = build_snapshot(args.sessions)
    new_cpu, new_plan = timed_plan(new_snapshot, args.repeat)
    steady = steady_snapshot(args.sessions)
    steady_cpu, steady_plan = timed_plan(steady, args.repeat)
    first = SettledMemo()
    match_snapshots_sync([steady], load_processors([EXAMPLES]), skip_settled=True, memo=first)
    memo_cpu, memo_plan = timed_plan(steady, args.repeat, first.found)
    print(f"sessions: {args.sessions}, processors: 5, best of {args.repeat}")
    print(
        f"new:    {new_cpu:.3f} s CPU, {len(new_plan.actions())} actions, "
        f"{len(new_plan.deferred)} submissions deferred"
    )
    print(f"steady: {steady_cpu:.3f} s CPU, {len(steady_plan.actions())} actions")
    print(
        f"steady, sessions remembered as settled by the previous sweep ({len(first.found)}): "
        f"{memo_cpu:.3f} s CPU, {len(memo_plan.actions())} actions"
    )


if __name__ == "__main__":
    main()
