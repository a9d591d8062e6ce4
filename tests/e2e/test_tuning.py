"""
Right-sizing on the loopback Slurm, whose accounting (slurmdbd) is real: a processor asks for
1 GB and its jobs hold about 150 MB; what they used is recorded on their assessors as sacct
accounted it, the suggestion lies between the most they used and 512 MB, and a processor that
asks to be tuned has its next jobs submitted with it, as sacct's own ReqMem shows.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import anyio
import pytest

from aspider.plan.retry import read_attempts
from aspider.plan.tuning import Request, job_records, usage
from aspider.processors import RetryPolicy, TunePolicy
from aspider.run.backends import SchedulerBackend
from aspider.run.sweep import SweepOptions, sweep_until_done
from tests.aspider.processes import clean_env, run_aspider, xnat_over_tcp
from tests.e2e.test_retries import processor
from xnat_client import AssessorFields, XnatClient
from xnat_client.sandbox import XnatServer, generate_project

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

# 150 MB touched, then held for 3 s: the accounting samples memory once a second.
HOLDS_150MB = """\
python3 -c "import time; b = b'x' * (150 << 20); time.sleep(3)"
echo ok > "$OUTDIR/out.txt"
"""


async def _sacct(backend: SchedulerBackend, job_ids: list[str], fields: str) -> list[list[str]]:
    argv = ["sacct", "--noheader", "--parsable2", f"--format=JobID,{fields}", "--jobs"]
    result = await backend.transport.run([*argv, ",".join(job_ids)])
    assert result.exit_status == 0, result.stderr
    return [line.split("|") for line in result.stdout.splitlines() if line.strip()]


async def test_jobs_that_use_150mb_of_1gb_are_tuned_to_what_they_use(
    server: XnatServer, xnat: XnatClient, slurm_backend: SchedulerBackend, tmp_path: Path
) -> None:
    generate_project(server, "P1", sessions=8, assessors_per_session=0, seed=4)
    proc = processor(tmp_path / "a", "sized", HOLDS_150MB, memory="1G", walltime="0-00:10")
    options = SweepOptions()
    with anyio.fail_after(300):
        await sweep_until_done(xnat, slurm_backend, "P1", [proc], options, interval=1)
    snapshot = await xnat.project_snapshot("P1")
    records = job_records([snapshot], "sized_v1")
    assert len(records) == 8
    assert all(r.succeeded and r.asked_memory_mb == 1024 for r in records)

    # What each record says it used is what sacct accounted for that job (MaxRSS, rounded up).
    jobs = {a.jobid: a for s in snapshot.sessions for a in s.assessors}
    peaks: dict[str, int] = {}
    for job_id, rss in await _sacct(slurm_backend, list(jobs), "MaxRSS"):
        if rss:
            number = job_id.split(".")[0]
            peaks[number] = max(peaks.get(number, 0), math.ceil(int(rss.rstrip("K")) / 1024))
    accounted = 0
    for job_id, a in jobs.items():
        attempts = read_attempts(a.note)
        assert attempts is not None, a.note
        (only,) = attempts.entries
        assert only.used is not None
        assert only.used.cpus == 1
        # A job finalised before slurmdbd recorded it (asked again for six seconds) keeps its
        # elapsed and CPU time and no memory; every memory recorded is sacct's.
        if only.used.memory_mb is not None:
            assert only.used.memory_mb == peaks[job_id]
            accounted += 1
    assert accounted >= TunePolicy().min_jobs
    used = [r.used.memory_mb for r in records if r.used and r.used.memory_mb]
    assert min(used) >= 100  # the 150 MB were seen by the sampler

    found = usage("sized_v1", records, Request.of(1024, 600, RetryPolicy()), TunePolicy())
    suggestion = found.suggestion
    assert suggestion is not None, found.why_none
    assert suggestion.memory_mb is not None
    assert max(used) <= suggestion.memory_mb <= 512
    assert suggestion.would_have_killed == 0
    assert suggestion.saved_gb_hours_per_100 > 0
    assert found.wasted_gb_hours > 0

    # `aspider tune` as a person runs it: the same numbers, as JSON and as text of 80 columns.
    with xnat_over_tcp(server) as url:
        env = clean_env(
            tmp_path,
            ASPIDER_XNAT__URL=url,
            ASPIDER_XNAT__USER="admin",
            ASPIDER_XNAT__PASSWORD="admin",
            ASPIDER_PROCESSOR_PATHS=json.dumps([str(tmp_path / "a")]),
        )
        shown = run_aspider(["tune", "P1", "--json"], env, tmp_path)
        text = run_aspider(["tune", "P1"], env, tmp_path)
        page = run_aspider(["report", "P1", "--html", str(tmp_path / "page.html")], env, tmp_path)
        served = run_aspider(["report", "P1"], env, tmp_path)  # /api/v1/status's document
    assert shown.returncode == 0, shown.stderr
    (told,) = json.loads(shown.stdout)["processors"]
    assert (told["proctype"], told["jobs"], told["succeeded"]) == ("sized_v1", 8, 8)
    assert told["memory_used"]["max"] == max(peaks.values())
    assert told["suggestion"]["memory_mb"] == suggestion.memory_mb
    assert told["tune"] == []
    assert text.returncode == 0, text.stderr
    assert f"suggest   memory {suggestion.memory_mb} MB" in text.stdout
    assert max(len(line) for line in text.stdout.splitlines()) <= 80
    # The status page and its JSON say the same per processor.
    assert page.returncode == 0, page.stderr
    row = (tmp_path / "page.html").read_text().split('data-proctype="sized_v1"', 1)[1]
    assert f"{suggestion.memory_mb} MB" in row.split("</tr>", 1)[0]
    (status,) = json.loads(served.stdout)["projects"]
    (on_page,) = status["usage"]
    assert on_page["suggestion"] == told["suggestion"]
    assert on_page["memory_used"] == told["memory_used"]

    # The same processor, asking to be tuned; two tasks sent back by hand run again with it.
    tuned = processor(
        tmp_path / "b", "sized", HOLDS_150MB, memory="1G, tune: [memory]", walltime="0-00:10"
    )
    again = [a for s in snapshot.sessions for a in s.assessors][:2]
    for a in again:
        await xnat.update_assessor(a.session_id, a.id, AssessorFields(procstatus="NEED_TO_RUN"))
    with anyio.fail_after(300):
        await sweep_until_done(xnat, slurm_backend, "P1", [tuned], options, interval=1)
    after = {a.label: a for s in (await xnat.project_snapshot("P1")).sessions for a in s.assessors}
    asked = []
    for a in again:
        now = after[a.label]
        assert now.procstatus == "COMPLETE", now.note
        attempts = read_attempts(now.note)
        assert attempts is not None, now.note
        (first,) = attempts.entries
        assert first.memory_tuned_from >= TunePolicy().min_jobs  # the record says so
        asked.append(first.memory_mb)
        assert now.jobid != a.jobid
    rows = await _sacct(slurm_backend, [after[a.label].jobid for a in again], "ReqMem")
    assert {row[1] for row in rows if "." not in row[0]} == {f"{m}M" for m in asked}
    assert all(m < 1024 for m in asked)
