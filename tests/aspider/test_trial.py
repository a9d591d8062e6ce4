"""
`aspider trial` against the XNAT-compatible server (in-process) with the local executor: a
completed trial's log and outputs, a kept trial that no later sweep counts or reuses, and the
error paths (a bad file, an unknown session, a processor that cannot run there, a failing
job, a Ctrl-C, a trial already under way). Each trial removes its assessor unless kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx
import pytest

from aspider.api import Spider
from aspider.cli import app
from aspider.demo import DEMO_PROCESSORS
from aspider.processors import is_trial
from aspider.run import ProcessorTrial, Wiring, try_processor
from aspider.settings import load_settings
from tests.aspider.conftest import first_session, runner, use_demo_processors
from tests.engine.conftest import shell_processor
from xnat_client.sandbox import XnatServer

IMGSTATS = str(DEMO_PROCESSORS / "imgstats_v1.0.0.yaml")


def trials(server: XnatServer) -> dict[str, str]:
    """label -> procstatus of every trial assessor in XNAT."""
    return {
        a.label: a.fields.get("procstatus", "")
        for a in server.store.assessors_of("DEMO")
        if is_trial(a.fields.get("proctype", ""))
    }


def trial_cli(*args: str) -> list[str]:
    return ["trial", *args, "--interval", "0.1"]


@pytest.fixture
def work_root(server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The demo processors, the local executor and its work root."""
    root = tmp_path / "work"
    use_demo_processors(monkeypatch, root)
    return root


def test_trial_completes_prints_log_and_outputs_then_removes_itself(
    server: XnatServer, work_root: Path
) -> None:
    """Exit 0; the job's log tail, its outputs in XNAT, a sweep's outlook; nothing left."""
    session = first_session(server)
    done = runner.invoke(app, trial_cli(IMGSTATS, "DEMO", session))
    assert done.exit_code == 0, done.output
    out = done.stdout
    head, task = out.splitlines()[:2]
    assert head == f"TRIAL_imgstats_v1 on DEMO session {session} ({IMGSTATS})"
    assert "-x-TRIAL_imgstats_v1-x-" in task
    assert task.endswith(": COMPLETE, job " + task.rsplit("job ", 1)[1])
    assert "  log (last lines of job.log):\n    statistics of scan 1 written\n" in out
    assert "    STATS/stats.txt (" in out
    assert f"a sweep of imgstats_v1 on {session}: work to do at the next sweep" in out
    assert "    - will be created in XNAT as NEED_TO_RUN: its inputs are all there" in out
    assert "removed from XNAT: the trial's DEMO-x-" in out
    assert ": JOB_RUNNING, job " in done.stderr  # what happened, told as it went
    assert trials(server) == {}
    assert list(work_root.iterdir()) in ([], [work_root / ".aspider"])  # no job directory left


def test_kept_trial_is_neither_counted_nor_reused_by_a_run(
    server: XnatServer, work_root: Path
) -> None:
    """--keep leaves it COMPLETE; run makes the session's own task; status/rerun skip it."""
    session = first_session(server)
    kept = runner.invoke(app, [*trial_cli(IMGSTATS, "DEMO", session), "--keep", "--json"])
    assert kept.exit_code == 0, kept.output
    shown = json.loads(kept.stdout)
    ((label, status),) = trials(server).items()
    assert (shown["ok"], shown["kept"], status) == (True, True, "COMPLETE")
    (task,) = shown["tasks"]
    assert task["label"] == label
    assert {"resource": "STATS", "name": "stats.txt"}.items() <= task["outputs"][-1].items()

    swept = runner.invoke(
        app, ["run", "DEMO", "-s", session, "--wait", "--interval", "0.1", "--json"]
    )
    assert swept.exit_code == 0, swept.output
    by_processor = json.loads(swept.stdout)["by_processor"]
    assert not [p for p in by_processor if is_trial(p)]
    assert by_processor["imgstats_v1"]["completed"] == by_processor["imgstats_v1"]["created"] > 0
    ours = [
        a.label
        for a in server.store.assessors_of("DEMO")
        if a.fields.get("proctype") == "imgstats_v1" and f"-x-{session}-x-" in a.label
    ]
    assert len(ours) == 1
    assert ours[0] != label
    assert ours[0].rsplit("-x-", 1)[1] == label.rsplit("-x-", 1)[1]  # the same inputs
    assert trials(server) == {label: "COMPLETE"}  # untouched

    counted = json.loads(runner.invoke(app, ["status", "DEMO", "--json"]).stdout)
    assert not [p for p in counted["counts"] if is_trial(p)]
    assert label not in json.dumps(counted)
    rerun = runner.invoke(app, ["rerun", "DEMO", "--status", "COMPLETE", "--dry-run", "--json"])
    assert rerun.exit_code == 0, rerun.output
    assert label not in rerun.stdout
    settings = load_settings(None)
    status = anyio.run(lambda: Spider(settings, wiring=runner.wiring).status("DEMO"))
    assert not [p for p in status.counts if is_trial(p)]


def test_next_trial_replaces_a_kept_one(server: XnatServer, work_root: Path) -> None:
    """A kept trial is removed by the next trial of the processor on the session, said."""
    session = first_session(server)
    assert runner.invoke(app, [*trial_cli(IMGSTATS, "DEMO", session), "--keep"]).exit_code == 0
    (label,) = trials(server)
    again = runner.invoke(app, trial_cli(IMGSTATS, "DEMO", session))
    assert again.exit_code == 0, again.output
    assert f"removed the earlier trial's {label} from XNAT" in again.stderr
    assert f"removed from XNAT: the earlier trial's {label} (COMPLETE)" in again.stdout
    assert trials(server) == {}


def test_failing_job_exits_1_with_reason_and_log_then_is_removed(
    server: XnatServer, work_root: Path, tmp_path: Path
) -> None:
    """A job that exits 3: its reason and log tail, exit 1, no assessor left; kept with --keep."""
    proc = shell_processor(tmp_path / "p", "broken", "\"echo 'cannot read the T1'; exit 3\"")
    session = first_session(server)
    failed = runner.invoke(app, trial_cli(proc.source, "DEMO", session))
    assert failed.exit_code == 1, failed.output
    line = next(x for x in failed.stdout.splitlines() if "-x-TRIAL_broken_v1-x-" in x)
    assert ": JOB_FAILED, job " in line
    assert line.endswith(" exited with code 3")
    assert "    cannot read the T1\n" in failed.stdout
    assert "    OUTLOG/job.log (" in failed.stdout
    assert trials(server) == {}
    kept = runner.invoke(app, [*trial_cli(proc.source, "DEMO", session), "--keep"])
    assert kept.exit_code == 1, kept.output
    assert list(trials(server).values()) == ["JOB_FAILED"]


def test_bad_processor_file_exits_2_with_file_line_field(
    server: XnatServer, tmp_path: Path
) -> None:
    """A file that does not load: file:line: field: message, exit 2, nothing written."""
    bad = tmp_path / "bad_v1.0.0.yaml"
    bad.write_text("command:\n  type: shell\n  scirpt: echo\n")
    result = runner.invoke(app, ["trial", str(bad), "DEMO", first_session(server), "--json"])
    assert result.exit_code == 2
    assert f"{bad}:3: command.scirpt: unknown key 'scirpt'" in json.loads(result.stdout)["error"]
    assert trials(server) == {}


def test_unknown_session_exits_2_with_the_nearest_labels(
    server: XnatServer, work_root: Path
) -> None:
    """A misspelt session names the labels it may have meant; nothing is written."""
    wrong = first_session(server).replace("MR1", "MR9")
    result = runner.invoke(app, ["trial", IMGSTATS, "DEMO", wrong])
    assert result.exit_code == 2
    assert f"session {wrong!r} is not in DEMO (did you mean " in result.stderr
    assert trials(server) == {}


def test_processor_that_cannot_run_there_is_not_tried(
    server: XnatServer, work_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project's overrides apply: with no scan of its type, it is not tried; exit 1."""
    override = {"DEMO": {"processors": {"imgstats_v1": {"inputs.xnat.scans.scan_t1.types": "X"}}}}
    monkeypatch.setenv("ASPIDER_PROJECTS", json.dumps(override))
    result = runner.invoke(app, ["trial", IMGSTATS, "DEMO", first_session(server)])
    assert result.exit_code == 1, result.output
    assert "not tried: imgstats_v1 cannot run on this session" in result.stdout
    assert "imgstats_v1 does not apply to" in result.stdout
    assert "scan_t1: no scan with type X" in result.stdout
    assert trials(server) == {}


def _engine(server: XnatServer) -> Callable[..., object]:
    settings = load_settings(None)
    wiring = Wiring(httpx.ASGITransport(app=server.app))

    def trial(file: str, session: str, say: Callable[[str], None], **kwargs: object) -> object:
        return try_processor(
            settings, file, "DEMO", session, interval=0.1, wiring=wiring, say=say, **kwargs
        )

    return trial


@pytest.mark.anyio
async def test_cancelled_trial_cancels_its_job_and_removes_its_assessor(
    server: XnatServer, work_root: Path, tmp_path: Path
) -> None:
    """A Ctrl-C (a cancellation) while the job runs: job cancelled, assessor gone, said."""
    proc = shell_processor(tmp_path / "p", "slow", '"sleep 600"')
    said: list[str] = []
    running = anyio.Event()

    def say(line: str) -> None:
        said.append(line)
        if ": JOB_RUNNING, job " in line:
            running.set()

    trial = _engine(server)
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(trial, proc.source, first_session(server), say)
            await running.wait()
            (label,) = trials(server)
            job = next(
                a.fields["jobid"] for a in server.store.assessors_of("DEMO") if a.label == label
            )
            tg.cancel_scope.cancel()
        assert trials(server) == {}
        assert f"removed the trial's {label} from XNAT" in said
        assert not (work_root / label).exists(), said
        for _ in range(200):  # SIGTERM'd: gone in a moment
            if not _group_alive(int(job.split(".")[0])):
                break
            await anyio.sleep(0.05)
        else:
            pytest.fail(f"job {job} still runs")


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs (a zombie waiting to be reaped does not)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError):
            continue  # ended while listed
        if int(group) == pgid and state != "Z":
            return True
    return False


@pytest.mark.anyio
async def test_second_trial_while_one_runs_is_refused(
    server: XnatServer, work_root: Path, tmp_path: Path
) -> None:
    """A trial of the same processor on the same session still running: TrialInTheWay."""
    from aspider import TrialInTheWay

    proc = shell_processor(tmp_path / "p", "slow", '"sleep 600"')
    running = anyio.Event()
    trial = _engine(server)
    session = first_session(server)

    def say(line: str) -> None:
        if ": JOB_RUNNING, job " in line:
            running.set()

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(trial, proc.source, session, say)
            await running.wait()
            (label,) = trials(server)
            with pytest.raises(TrialInTheWay, match=f"{label} is JOB_RUNNING"):
                await trial(proc.source, session, lambda line: None)
            assert trials(server) == {label: "JOB_RUNNING"}
            tg.cancel_scope.cancel()
    assert trials(server) == {}


def test_spider_trial_answers_as_the_command_does(server: XnatServer, work_root: Path) -> None:
    """`Spider.trial` (async and sync) gives the document `aspider trial --json` prints."""
    from aspider.sync import Spider as SyncSpider

    session = first_session(server)
    settings = load_settings(None)
    view = anyio.run(
        lambda: Spider(settings, wiring=runner.wiring).trial(
            IMGSTATS, "DEMO", session, interval=0.1
        )
    )
    assert view.ok
    (task,) = view.tasks
    assert task["procstatus"] == "COMPLETE"
    assert "statistics of scan 1 written" in task["log_tail"]
    assert view.sweep["tasks"][0]["planned"] == ["create", "submit"]
    shown = json.loads(runner.invoke(app, trial_cli(IMGSTATS, "DEMO", session, "--json")).stdout)
    assert set(view.to_dict()) == set(shown)
    with SyncSpider(settings, wiring=runner.wiring) as spider:
        again = spider.trial(IMGSTATS, "DEMO", session, keep=True, interval=0.1)
    assert (again.ok, again.kept, len(trials(server))) == (True, True, 1)


LONGITUDINAL = """\
requirements: {walltime: '0-00:05', memory: 128M}
inputs:
  xnat:
    sessions:
      - type: Baseline
        scans:
          - {name: scan_base, types: T1, nifti: base.nii.gz}
      - type: Followup
        scans:
          - {name: scan_follow, types: T1, nifti: follow.nii.gz}
outputs:
  - stats: out.txt
command:
  type: shell
  script: cat "$INDIR/base.nii.gz" "$INDIR/follow.nii.gz" > "$OUTDIR/out.txt"
"""


@pytest.mark.anyio
async def test_subject_level_trial_sees_every_session_of_the_subject(
    server: XnatServer, work_root: Path, tmp_path: Path
) -> None:
    """Named by one session, a subject processor's trial reads the subject's other sessions
    too, and makes (then removes) the subject's own TRIAL_ assessor."""
    store = server.store
    subject = store.add_subject("DEMO", "LONG1")
    for n, kind in enumerate(("Baseline", "Followup"), start=1):
        session = store.add_session(
            subject, f"LONG1_MR{n}", date=f"202{n}-01-01", session_type=kind
        )
        scan = store.add_scan(session, "1", type="T1", quality="usable")
        store.add_resource(scan.resources, "NIFTI", "NIFTI", files={"t1.nii.gz": b"T1"})
    path = tmp_path / "long_v1.0.0.yaml"
    path.write_text(LONGITUDINAL)
    said: list[str] = []
    with anyio.fail_after(60):
        done = await _engine(server)(str(path), "LONG1_MR1", said.append)
    assert isinstance(done, ProcessorTrial)
    assert done.ok, (done, said)
    (task,) = done.tasks
    assert task.label.startswith("DEMO-x-LONG1-x-TRIAL_long_v1-x-")
    assert {(o.resource, o.name) for o in task.outputs} >= {("STATS", "out.txt")}
    assert f"removed the trial's {task.label} from XNAT" in said
    assert not [a for a in store.experiments.values() if a.label == task.label]
