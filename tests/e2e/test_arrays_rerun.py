"""
One element of a Slurm job array, on its own, on the loopback cluster: `aspider rerun --cancel`
of its task cancels that element alone (`scancel 123_7`), whether it runs, waits its turn or
waits held; an element whose task left flight before its release is cancelled, never released;
and after a crash each element is adopted and released alone. The other elements run on, and
the jobs' own ledger (`runs.log`) says how often each task ran.
"""

from __future__ import annotations

import json
import signal
import sys
import uuid
from collections import Counter
from pathlib import Path

import anyio
import httpx
import pytest

from aspider.run import Wiring, send_back
from aspider.run.backends import ArrayPolicy, SchedulerBackend
from aspider.run.sweep import sweep_project, sweep_until_done
from aspider.settings import AspiderSettings, ClusterSection, XnatSection
from pbs import EndCause, JobState, SlurmClient, SshTransport, array_of
from tests.conftest import ClusterProfile
from tests.e2e import test_arrays as arrays
from tests.e2e import test_arrays_crash as crash
from tests.engine.conftest import shell_processor
from xnat_client import Assessor, XnatClient
from xnat_client.sandbox import XnatServer, generate_project, serve_tcp

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

# Each job runs until the test lets it go (a file `go` beside the job directories).
WAITS_FOR_GO = """|
    echo {assessor} >> "$JOBDIR/../runs.log"
    while [ ! -e "$JOBDIR/../go" ]; do sleep 0.2; done
    wc -c < "$INDIR/t1.nii.gz" > "$OUTDIR/out.txt"
"""


def _rerun_settings(cluster: ClusterProfile, root: Path) -> AspiderSettings:
    """`aspider rerun`'s settings: XNAT in process, Slurm over SSH (its jobs to cancel)."""
    xnat = XnatSection.model_validate(
        {"url": "http://xnat.test", "user": "admin", "password": "admin"}
    )
    c = cluster
    where = {"host": c.host, "port": c.port, "user": c.user, "key_path": c.key_path}
    section = ClusterSection(
        executor="slurm", known_hosts=c.known_hosts, work_root=str(root), **where
    )
    return AspiderSettings(xnat=xnat, cluster=section)


async def _by_session(xnat: XnatClient) -> list[tuple[str, Assessor]]:
    """(session label, assessor) of every assessor of P1."""
    return list((await xnat.project_snapshot("P1")).every_assessor())


async def _states(client: SlurmClient, ids: list[str]) -> dict[str, JobState]:
    return {job_id: info.state for job_id, info in (await client.poll(ids, [])).by_id.items()}


async def _until_ended(client: SlurmClient, ids: list[str], element: str) -> dict[str, JobState]:
    """Every element's state, once `element` has ended (a cancel takes Slurm a moment)."""
    with anyio.fail_after(60):
        while (states := await _states(client, ids))[element].active:  # noqa: ASYNC110
            await anyio.sleep(0.5)
    return states


async def _element_to_cancel(client: SlurmClient, ids: list[str], state: str) -> str:
    """
    Once the array runs as `state` says (all elements running; or, one at a time, one running
    and the others waiting), an element in that state other than element 0.
    """
    want = JobState.RUNNING if state == "running" else JobState.QUEUED
    with anyio.fail_after(60):
        while True:
            states = await _states(client, ids)
            running = [i for i, s in states.items() if s is JobState.RUNNING]
            if (state == "running" and len(running) == len(ids)) or (
                state == "pending" and len(running) == 1
            ):
                return next(i for i in ids[1:] if states[i] is want)
            await anyio.sleep(0.5)


@pytest.mark.parametrize("state", ["running", "pending"])
async def test_rerun_cancel_of_one_element_cancels_it_alone_and_its_task_runs_again(
    server: XnatServer, xnat: XnatClient, cluster: ClusterProfile, tmp_path: Path, state: str
) -> None:
    """An array of 3 (one at a time for `pending`): `rerun --cancel` of one task cancels its
    element alone (`scancel 123_2`); the others run on and complete as elements of the array,
    the task is submitted again as a job of its own and completes."""
    waits = shell_processor(tmp_path / "processors", "waits", WAITS_FOR_GO)
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=8)
    root = cluster.work_root / f"e2e-rerun-{uuid.uuid4().hex[:8]}"
    policy = ArrayPolicy(parallel=1 if state == "pending" else None)
    wiring = Wiring(httpx.ASGITransport(app=server.app))
    async with SshTransport(cluster.ssh_settings()) as transport:
        client = SlurmClient(transport)
        backend = SchedulerBackend(client, str(root), "slurm", arrays=policy)
        try:
            with anyio.fail_after(240):
                await sweep_project(xnat, backend, "P1", [waits])
                first = {a.jobid: (where, a) for where, a in await _by_session(xnat)}
                ids = sorted(first)
                assert len(arrays._arrays(ids)) == 1
                element = await _element_to_cancel(client, ids, state)
                session, target = first[element]
                args = (_rerun_settings(cluster, root), "P1", {"waits_v1"}, [], [session])
                done = await send_back(*args, cancel=True, wiring=wiring)
                assert ([target.label], [element]) == (done.sent_back, done.cancelled_jobs)
                others = [i for i in ids if i != element]
                states = await _until_ended(client, ids, element)
                assert all(states[i].active for i in others), states  # untouched
                (root / "go").touch()
                await sweep_until_done(xnat, backend, "P1", [waits], interval=1)
                ended = (await client.poll(ids, [])).by_id
        finally:
            root.mkdir(parents=True, exist_ok=True)
            (root / "go").touch()
    after = {a.label: a for a in await arrays._assessors(xnat)}
    assert {a.procstatus for a in after.values()} == {"COMPLETE"}
    again = after[target.label].jobid
    assert array_of(again) == again != element  # a job of its own, not an element
    assert {first[i][1].label: i for i in others} == {
        label: a.jobid for label, a in after.items() if label != target.label
    }
    assert [(ended[i].state, ended[i].end_cause) for i in others] == [
        (JobState.COMPLETED, EndCause.SUCCESS)
    ] * 2
    assert ended[element].end_cause in (EndCause.CANCELLED, None)  # a waiting one leaves none
    ran_before = 1 if state == "running" else 0
    expected = Counter(dict.fromkeys(after, 1) | {target.label: 1 + ran_before})
    assert arrays._runs(backend) == expected
    said = [w.step_description for w in await xnat.list_workflows("waits_v1", target.id)]
    asked = f"aspider rerun --cancel (was JOB_RUNNING; job {element} cancelled)"
    assert f"rerun requested by admin: {asked}" in said


async def _rerun_cli(settings: Path, project: str, session: str) -> dict[str, list[str]]:
    """`aspider rerun PROJECT --session S --cancel --yes --json` as a person types it."""
    argv = [sys.executable, "-m", "aspider", "rerun", project, "--session", session]
    argv += ["--cancel", "--yes", "--json", "--settings", str(settings)]
    result = await anyio.run_process(argv, env=crash._env(), check=True)
    answer: dict[str, list[str]] = json.loads(result.stdout)
    return answer


async def _killed_with_the_array_held(
    server: crash.HoldingServer, settings: Path, root: Path, project: str
) -> dict[str, str]:
    """`aspider run` SIGKILLed once every element's record is held; the markers it left."""
    first = await crash._aspider(settings, project)
    await server.all_held.wait()
    first.send_signal(signal.SIGKILL)
    await first.wait()
    held = crash._markers(root)
    assert len(held) == crash.SESSIONS
    assert len({array_of(job_id) for job_id in held.values()}) == 1
    server.hold = False
    return held


async def test_a_held_element_whose_task_was_sent_back_is_cancelled_never_released(
    cluster: ClusterProfile, tmp_path: Path
) -> None:
    """Killed between the records and the release. Task A sent back with `aspider rerun
    --cancel`: its held element alone is cancelled (the others wait, held). Task B set to
    NEED_TO_RUN by hand in XNAT: the next run cancels its held element instead of releasing
    or adopting it. That run releases the others' elements one by one and sends A and B jobs
    of their own: every task runs once."""
    project = f"R{uuid.uuid4().hex[:8]}"
    server = crash.HoldingServer(apply=True, expected=crash.SESSIONS)
    generate_project(server, project, sessions=crash.SESSIONS, assessors_per_session=0, seed=9)
    with anyio.fail_after(240):
        async with serve_tcp(server) as url:
            settings, root = crash._settings(tmp_path, url, cluster, project)
            held = await _killed_with_the_array_held(server, settings, root, project)
            a, b, *rest = sorted(server.store.assessors_of(project), key=lambda x: x.label)
            session_a = server.store.experiments[a.session_id].label
            answer = await _rerun_cli(settings, project, session_a)
            assert (answer["sent_back"], answer["cancelled"]) == ([a.label], [held[a.label]])
            async with SshTransport(cluster.ssh_settings()) as transport:
                states = await _states(SlurmClient(transport), sorted(held.values()))
            assert {label: states[job_id] for label, job_id in held.items()} == {
                a.label: JobState.GONE,  # Slurm keeps no record of a held element cancelled
                **{x.label: JobState.HELD for x in (b, *rest)},
            }
            server.store.experiments[b.id].fields["procstatus"] = "NEED_TO_RUN"
            second = await crash._aspider(settings, project, "--wait", "--interval", "1")
            assert await second.wait() == 0
            async with SshTransport(cluster.ssh_settings()) as transport:
                ended = (await SlurmClient(transport).poll([held[b.label]], [])).by_id
            assessors = {x.label: x for x in server.store.assessors_of(project)}
    assert {x.fields.get("procstatus") for x in assessors.values()} == {"COMPLETE"}
    assert {x.label: assessors[x.label].fields.get("jobid") for x in rest} == {
        x.label: held[x.label] for x in rest
    }
    crashed = {array_of(job_id) for job_id in held.values()}
    again = {array_of(assessors[task.label].fields.get("jobid", "")) for task in (a, b)}
    assert not again & crashed  # jobs of their own: no element of the crashed array
    cancelled = ended[held[b.label]]
    # cancelled while held: the last waiting element takes its array's record with it
    assert (cancelled.state, cancelled.end_cause) in {
        (JobState.GONE, None),
        (JobState.COMPLETED, EndCause.CANCELLED),
    }
    assert crash._runs(root) == Counter(dict.fromkeys(assessors, 1))
    assert not crash._markers(root)


async def test_after_a_crash_each_element_is_adopted_and_released_alone(
    cluster: ClusterProfile, tmp_path: Path
) -> None:
    """Killed before any record: a run of one session adopts that session's element and
    releases it alone (`scontrol release 123_0`): it runs and completes while the others stay
    held with their markers; the next run adopts those. Every task runs once, as its element."""
    project = f"D{uuid.uuid4().hex[:8]}"
    server = crash.HoldingServer(apply=False, expected=crash.SESSIONS)
    generate_project(server, project, sessions=crash.SESSIONS, assessors_per_session=0, seed=10)
    with anyio.fail_after(240):
        async with serve_tcp(server) as url:
            settings, root = crash._settings(tmp_path, url, cluster, project)
            held = await _killed_with_the_array_held(server, settings, root, project)
            session = min(s.label for s in server.store.sessions_of(project))
            one = await crash._aspider(
                settings, project, "-s", session, "--wait", "--interval", "1"
            )
            assert await one.wait() == 0
            (adopted,) = list(server.store.assessors_of(project))
            waiting = {name: job_id for name, job_id in held.items() if name != adopted.label}
            assert crash._markers(root) == waiting
            async with SshTransport(cluster.ssh_settings()) as transport:
                states = await _states(SlurmClient(transport), list(waiting.values()))
            assert set(states.values()) == {JobState.HELD}
            rest = await crash._aspider(settings, project, "--wait", "--interval", "1")
            assert await rest.wait() == 0
            assessors = list(server.store.assessors_of(project))
    assert adopted.fields.get("jobid") == held[adopted.label]
    assert {x.fields.get("procstatus") for x in assessors} == {"COMPLETE"}
    assert {x.label: x.fields.get("jobid") for x in assessors} == held
    assert crash._runs(root) == Counter({x.label: 1 for x in assessors})
    assert not crash._markers(root)
