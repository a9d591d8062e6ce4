"""History rows say why: a resubmission its cause and new request, a failure its reason, a rerun
who asked and when."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import anyio
import httpx
import pytest

from aspider.plan import JobObservation
from aspider.plan.retry import Attempt, Attempts, read_attempts
from aspider.processors import Processor
from aspider.run import Wiring, send_back
from aspider.run.backends import LocalBackend
from aspider.run.commands.rerun import asker
from aspider.run.records.workflow_history import DESCRIPTION_LIMIT, resubmission, sent_back_by
from aspider.run.sweep import sweep_until_done
from aspider.settings import AspiderSettings, XnatSection
from pbs import LocalTransport
from tests.engine.conftest import shell_processor
from xnat_client import Assessor, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = pytest.mark.anyio

# The first run kills its whole process group (no exit code: `lost`); the next one succeeds.
DIES_ONCE = """|
    echo run >> "$JOBDIR.runs"
    if [ "$(wc -l < "$JOBDIR.runs")" -eq 1 ]; then kill -KILL 0; fi
    echo ok > "$OUTDIR/out.txt"
"""
ALWAYS_DIES = """|
    kill -KILL 0
"""
WRITES_OK = "'echo fine > \"$OUTPUTS/out.txt\"'"


class SchedulerSaysMemory(LocalBackend):
    """
    The local executor, with the verdict Slurm gives a job its cgroup killed (OUT_OF_MEMORY):
    a job that died without an exit code is reported killed for memory. The local executor
    enforces no memory request, so the scheduler's word is the one thing stood in for.
    """

    async def observe(self, jobs: Mapping[str, str]) -> dict[str, JobObservation]:
        seen = await super().observe(jobs)
        return {
            label: replace(obs, end_cause="memory") if obs.end_cause == "lost" else obs
            for label, obs in seen.items()
        }


async def _sweep(xnat: XnatClient, backend: LocalBackend, proc: Processor) -> None:
    with anyio.fail_after(60):
        await sweep_until_done(xnat, backend, "P1", [proc], interval=0.2, max_sweeps=60)


async def _run(
    xnat: XnatClient, root: Path, proc: Processor, kind: type[LocalBackend] = LocalBackend
) -> Assessor:
    """Sweep P1 until nothing runs; its one assessor."""
    async with LocalTransport() as transport:
        await _sweep(xnat, kind(transport, str(root)), proc)
    (a,) = [a for s in (await xnat.project_snapshot("P1")).sessions for a in s.assessors]
    return a


def _first_job(a: Assessor) -> str:
    """Attempt 1's job id, from the record at the head of the note."""
    attempts = read_attempts(a.note)
    assert attempts is not None, a.note
    return attempts.entries[0].job_id


async def _said(xnat: XnatClient, a: Assessor) -> list[str]:
    return [w.step_description for w in await xnat.list_workflows(a.proctype, a.id)]


async def test_a_memory_kill_s_resubmission_names_the_cause_both_requests_and_the_new_job(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """Killed for memory at 128 MB: the row reads the old job, 128 MB, 256 MB and the new job."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=3)
    retry = "retry: {attempts: 2, on: [memory], memory_factor: 2}\n"
    proc = shell_processor(tmp_path / "procs", "hog", DIES_ONCE, retry)
    a = await _run(xnat, tmp_path / "work", proc, SchedulerSaysMemory)
    assert a.procstatus == "COMPLETE", a.note
    first = _first_job(a)
    assert [
        f"submitted as job {first}",
        f"job {first} was killed for memory at 128 MB; resubmitted with 256 MB as job {a.jobid}",
        "complete",
    ] == await _said(xnat, a)
    resubmitted = (await xnat.list_workflows(a.proctype, a.id))[1]
    assert ("JOB_RUNNING", a.jobid, "256 MB, 00:05:00") == (
        resubmitted.step_id,
        resubmitted.job_id,
        resubmitted.details,
    )


async def test_a_lost_job_s_resubmission_names_the_same_request_and_the_new_job(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """A job gone without an exit code is sent again as it was: the row says so, whole."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=3)
    retry = "retry: {attempts: 2, on: [lost]}\n"
    proc = shell_processor(tmp_path / "procs", "fragile", DIES_ONCE, retry)
    a = await _run(xnat, tmp_path / "work", proc)
    assert a.procstatus == "COMPLETE", a.note
    first = _first_job(a)
    expected = (
        f"job {first} ended without an exit code; resubmitted with the same request "
        f"(128 MB, 00:05:00) as job {a.jobid}"
    )
    assert expected == (await _said(xnat, a))[1]


def test_a_walltime_kill_s_resubmission_names_both_walltimes() -> None:
    """Killed at 01:00:00, sent with 02:00:00: HH:MM:SS both, then the new job's id."""
    attempts = Attempts((Attempt(1, 2048, 3600, "4711", "walltime"), Attempt(2, 2048, 7200)))
    expected = "job 4711 was killed for walltime at 01:00:00; resubmitted with 02:00:00 as job 4712"
    assert expected == resubmission(attempts, "4712")


def test_a_resubmission_row_stays_one_bounded_line() -> None:
    """An absurd job id cannot make the row longer than XNAT keeps, nor two lines."""
    attempts = Attempts((Attempt(1, 128, 60, "x\n" * 200, "memory"), Attempt(2, 256, 60)))
    said = resubmission(attempts, "9")
    expected = (DESCRIPTION_LIMIT, 1)  # characters, lines
    assert expected == (len(said), len(said.splitlines()))


async def test_a_failure_row_is_its_reason_without_the_log_tail(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """Exit 3 after printing: the row is the reason alone; the log tail stays in comments."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=3)
    proc = shell_processor(tmp_path / "procs", "bad", "'echo some output; exit 3'")
    a = await _run(xnat, tmp_path / "work", proc)
    assert a.procstatus == "JOB_FAILED"
    failed = (await xnat.list_workflows(a.proctype, a.id))[-1]
    assert f"failed: job {a.jobid} exited with code 3" == failed.step_description
    assert (a.note, True) == (failed.comments, "; log: " in failed.comments)


async def test_a_failure_after_its_last_attempt_names_why_without_the_attempts_record(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """Lost twice: the row is the last job's end and why it is not sent again, no [attempt ...]."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=3)
    retry = "retry: {attempts: 2, on: [lost]}\n"
    proc = shell_processor(tmp_path / "procs", "fragile", ALWAYS_DIES, retry)
    a = await _run(xnat, tmp_path / "work", proc)
    assert a.procstatus == "JOB_FAILED", a.note
    expected = (
        f"failed: job {a.jobid} ended without an exit code (killed by the scheduler?); "
        "not submitted again: no attempt left (2 of 2)"
    )
    assert expected == (await _said(xnat, a))[-1]


def _settings(**xnat: object) -> AspiderSettings:
    return AspiderSettings(xnat=XnatSection.model_validate({"url": "http://xnat.test", **xnat}))


async def test_a_rerun_row_says_who_asked_and_when_and_a_qc_rerun_says_xnat(
    server: XnatServer, xnat: XnatClient, tmp_path: Path
) -> None:
    """aspider rerun by admin: one row when asked, one when done (with when); QC: in XNAT."""
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=3)
    proc = shell_processor(tmp_path / "procs", "ok", WRITES_OK)
    a = await _run(xnat, tmp_path / "work", proc)
    settings = _settings(user="admin", password="admin")
    wiring = Wiring(httpx.ASGITransport(app=server.app))
    sent = await send_back(settings, "P1", ["ok_v1"], [], [], wiring=wiring)
    assert [a.label] == sent.sent_back
    asked = sent_back_by(server.store.experiments[a.id].fields["note"])
    assert asked is not None
    who, when = asked
    expected = ("admin", "rerun requested by admin: aspider rerun (was COMPLETE)", "NEED_TO_RUN")
    requested = (await xnat.list_workflows("ok_v1", a.id))[-1]
    assert expected == (who, requested.step_description, requested.step_id)
    assert f"{requested.launch_time:%Y-%m-%d %H:%M:%S}" == when
    a = await _run(xnat, tmp_path / "work", proc)
    server.store.experiments[a.id].fields["validation/status"] = "Rerun"
    a = await _run(xnat, tmp_path / "work", proc)
    assert [
        "submitted as job",
        "complete",
        "rerun requested by admin: aspider rerun (was COMPLETE)",
        f"rerun requested by admin: aspider rerun at {when}: outputs removed, running again",
        "submitted as job",
        "complete",
        "rerun requested in XNAT: QC status set to Rerun: outputs removed, running again",
        "submitted as job",
        "complete",
    ] == [re.sub(r" job \S+$", " job", said) for said in await _said(xnat, a)]


def test_the_asker_is_the_xnat_account_else_netrc_s_else_the_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """user+password: that user; netrc: its login; an alias token names no one: the OS login."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine xnat.test login carol password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("USER", "dave")
    monkeypatch.setenv("LOGNAME", "dave")
    found = (
        asker(_settings(user="alice", password="pw")),
        asker(_settings(netrc=netrc)),
        asker(_settings(alias="tok-123", secret="s3cret")),
    )
    expected = ("alice", "carol", "dave")
    assert expected == found
