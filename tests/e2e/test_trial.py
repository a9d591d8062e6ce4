"""
`aspider trial` as a person runs it, on the loopback Slurm over SSH, against the
XNAT-compatible server over TCP: a processor file from outside `processor_paths` runs on one
session and completes, its log tail and outputs printed; kept, it stays, and a following
`aspider run` neither counts nor reuses it (its own task runs, its downstream takes the
project's result); without --keep, or when its job fails, it is gone at the end.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import signal
import subprocess
import uuid
from pathlib import Path

import anyio
import pytest

from aspider.demo import DEMO_PROCESSORS
from pbs import SshTransport
from tests.aspider.processes import ASPIDER, clean_env, run_aspider, xnat_over_tcp
from tests.conftest import ClusterProfile
from xnat_client.sandbox import XnatServer, generate_project, serve_tcp

pytestmark = [pytest.mark.cluster]

SHELL = """\
level: session
requirements: {{walltime: '0-00:05', memory: 128M, ppn: 1}}
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1w
        keep_multis: first
outputs:
  - stats: out.txt
command:
  type: shell
  script: |
{script}
"""
BROKEN = SHELL.format(script='    echo "no T1 today"\n    exit 3')
SLOW = SHELL.format(script="    sleep 600")


def _write_settings(path: Path, url: str, cluster: ClusterProfile, project: str) -> None:
    """Slurm over SSH on the loopback cluster; the demo's processors in `processor_paths`."""
    settings = {
        "processor_paths": [str(DEMO_PROCESSORS)],
        "projects": {project: {}},
        "xnat": {"url": url, "user": "admin"},
        "cluster": cluster.cluster_settings("slurm", cluster.work_root / f"trial-{project}"),
    }
    path.write_text(json.dumps(settings))


def test_trial_on_slurm_then_a_run_neither_counts_nor_reuses_it(
    cluster: ClusterProfile, tmp_path: Path
) -> None:
    """Trial, kept and not; a failing one; then `run` makes its own tasks and counts no trial."""
    project = f"T{uuid.uuid4().hex[:8]}"
    server = XnatServer()
    generate_project(server, project, sessions=2, assessors_per_session=0, seed=4)
    first, second = sorted(s.label for s in server.store.sessions_of(project))
    tried = tmp_path / "new" / "imgstats_v1.0.0.yaml"  # not in processor_paths
    tried.parent.mkdir()
    shutil.copy(DEMO_PROCESSORS / "imgstats_v1.0.0.yaml", tried)
    broken = tmp_path / "new" / "broken_v1.0.0.yaml"
    broken.write_text(BROKEN)
    settings = tmp_path / "aspider.yaml"

    def aspider(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [*args, "--settings", str(settings)]
        return run_aspider(
            argv, clean_env(tmp_path, ASPIDER_XNAT__PASSWORD="admin"), tmp_path, timeout=240
        )

    def trials() -> dict[str, tuple[str, str]]:
        found = server.store.assessors_of(project)
        return {
            a.label: (a.fields.get("procstatus", ""), a.fields.get("jobid", ""))
            for a in found
            if a.fields.get("proctype", "").startswith("TRIAL_")
        }

    with xnat_over_tcp(server) as url:
        _write_settings(settings, url, cluster, project)
        kept = aspider("trial", str(tried), project, first, "--keep", "--interval", "1", "--json")
        gone = aspider("trial", str(tried), project, second, "--interval", "1")
        failed = aspider("trial", str(broken), project, second, "--interval", "1")
        after_trials = trials()
        run = aspider("run", project, "--wait", "--interval", "1", "--json")
        status = aspider("status", project, "--json")
        page = aspider("report", project)  # /api/v1/status's document

    # Kept: COMPLETE on Slurm (a job id of its own), its outputs and log as uploaded.
    assert kept.returncode == 0, kept.stderr
    shown = json.loads(kept.stdout)
    assert (shown["ok"], shown["kept"], shown["proctype"]) == (True, True, "TRIAL_imgstats_v1")
    (task,) = shown["tasks"]
    assert task["procstatus"] == "COMPLETE"
    assert task["job_id"].isdigit()
    assert "statistics of scan 1 written" in task["log_tail"]
    uploaded = {(o["resource"], o["name"]) for o in task["outputs"] if o["size"]}
    assert {("STATS", "stats.txt"), ("OUTLOG", "job.log")} <= uploaded
    assert shown["sweep"]["tasks"][0]["planned"] == ["create", "submit"]
    label, job_id = task["label"], task["job_id"]
    assert label.split("-x-")[::3] == [project, "TRIAL_imgstats_v1"]  # DAX's trial form

    # Not kept: the same, printed, then removed; a failing one says why, exits 1, and goes.
    assert gone.returncode == 0, gone.stderr
    assert "  log (last lines of job.log):\n    statistics of scan 1 written\n" in gone.stdout
    assert "    STATS/stats.txt (" in gone.stdout
    assert "removed from XNAT: the trial's " in gone.stdout
    assert failed.returncode == 1, failed.stderr
    assert " exited with code 3" in failed.stdout
    assert "    no T1 today\n" in failed.stdout
    assert after_trials == {label: ("COMPLETE", job_id)}

    # The run: each session's own imgstats task (never the trial's), its report on it; the
    # trial neither counted nor touched.
    assert run.returncode == 0, run.stderr
    by_processor = json.loads(run.stdout)["by_processor"]
    assert set(by_processor) == {"imgstats_v1", "sessreport_v1"}
    assert by_processor["imgstats_v1"]["created"] == by_processor["imgstats_v1"]["completed"] == 2
    assert by_processor["sessreport_v1"]["completed"] == 2
    assert trials() == {label: ("COMPLETE", job_id)}
    own = label.replace("-x-TRIAL_imgstats_v1-x-", "-x-imgstats_v1-x-")  # the same inputs
    statuses = {a.label: a.fields.get("procstatus") for a in server.store.assessors_of(project)}
    assert statuses[own] == "COMPLETE"
    reports = [
        a for a in server.store.assessors_of(project) if a.fields.get("proctype") == "sessreport_v1"
    ]
    taken = [html.unescape(a.fields.get("inputs", "")) for a in reports]
    assert all("-x-imgstats_v1-x-" in i and "TRIAL_" not in i for i in taken), taken
    assert status.returncode == 0, status.stderr
    assert set(json.loads(status.stdout)["counts"]) == {"imgstats_v1", "sessreport_v1"}
    assert page.returncode == 0, page.stderr
    (on_page,) = json.loads(page.stdout)["projects"]
    assert set(on_page["matrix"]) == {"imgstats_v1", "sessreport_v1"}


@pytest.mark.anyio
async def test_ctrl_c_cancels_the_trials_job_and_removes_its_assessor(
    cluster: ClusterProfile, tmp_path: Path
) -> None:
    """SIGINT while the job runs on Slurm: the job is cancelled, the assessor gone; exit 130."""
    project = f"C{uuid.uuid4().hex[:8]}"
    server = XnatServer()
    generate_project(server, project, sessions=1, assessors_per_session=0, seed=4)
    (session,) = (s.label for s in server.store.sessions_of(project))
    slow = tmp_path / "slow_v1.0.0.yaml"
    slow.write_text(SLOW)
    settings = tmp_path / "aspider.yaml"
    told = b""
    with anyio.fail_after(180):
        async with serve_tcp(server) as url:
            _write_settings(settings, url, cluster, project)
            argv = [ASPIDER, "trial", str(slow), project, session, "--interval", "1"]
            env = clean_env(tmp_path, ASPIDER_XNAT__PASSWORD="admin")
            async with await anyio.open_process(
                [*argv, "--settings", str(settings)], env=env
            ) as process:
                assert process.stderr is not None
                async for chunk in process.stderr:
                    told += chunk
                    if re.search(rb": JOB_RUNNING, job \d+\n", told):  # the whole line
                        break
                found = re.search(r"^(\S+): JOB_RUNNING, job (\d+)$", told.decode(), re.MULTILINE)
                assert found is not None, told
                label, job_id = found.groups()
                process.send_signal(signal.SIGINT)
                async for chunk in process.stderr:
                    told += chunk
                code = await process.wait()
    said = told.decode()
    assert code == 130, said
    assert f"removed the trial's {label} from XNAT" in said
    assert "interrupted: what the trial had made was removed, as said above" in said
    assert not [a for a in server.store.assessors_of(project) if a.label == label]
    async with SshTransport(cluster.ssh_settings()) as ssh:
        queued = await ssh.run(["squeue", "--noheader", "--jobs", job_id, "--format", "%T"])
    assert queued.stdout.strip() in ("", "CANCELLED", "COMPLETING"), queued.stdout
