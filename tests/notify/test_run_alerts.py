"""
`aspider run` tells, once: tasks that fail are alerts (one each, by email and webhook), a run
with the same failures says nothing, a rerun that completes them says "resolved", and two
engines sweeping one project from different work roots tell each problem once. Run as
processes against the XNAT-compatible server over TCP and real receivers on 127.0.0.1.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from anyio.from_thread import start_blocking_portal

from tests.aspider.processes import ASPIDER, run_aspider, xnat_over_tcp
from tests.engine.conftest import shell_processor
from tests.notify.conftest import Site, make_site, webhook
from tests.notify.receivers import Receiver, SmtpServer, free_port
from xnat_client.sandbox import XnatServer, generate_project, serve_tcp

RUN = ["run", "P1", "--wait", "--interval", "0.2"]


def _failing_until(flag: Path) -> str:
    """A script that fails (saying why in its log) until `flag` exists."""
    return (
        f'\'if test -e {flag}; then echo ok > "$OUTPUTS/out.txt"; '
        'else echo "no calibration file"; exit 3; fi\''
    )


@contextmanager
def xnat_on(server: XnatServer, port: int) -> Iterator[str]:
    """The server on 127.0.0.1:`port`, in a thread of its own."""
    with (
        start_blocking_portal("asyncio") as portal,
        portal.wrap_async_context_manager(serve_tcp(server, port)) as url,
    ):
        yield url


def _no_hook() -> Receiver:
    return Receiver("")


def _site(tmp_path: Path, url: str, mail: SmtpServer, hook: Receiver, **kw: str) -> Site:
    notify: dict[str, object] = {"email": mail.settings(["ops@lab.test"])}
    if hook.url:
        notify["webhook"] = webhook(hook)
    return make_site(tmp_path / kw.pop("name", "site"), url, tmp_path / "procs", notify, **kw)


def _labels(server: XnatServer, status: str) -> set[str]:
    project = server.store.projects["P1"]
    return {
        a.label
        for s in project.sessions.values()
        for a in s.assessors.values()
        if a.fields.get("procstatus") == status
    }


def test_failures_are_told_once_and_resolved_after_a_rerun_completes_them(
    tmp_path: Path, mail: SmtpServer, hook: Receiver
) -> None:
    """3 failed tasks: 3 alerts; the same again: none; rerun to COMPLETE: 3 resolved."""
    server = XnatServer()
    generate_project(server, "P1", sessions=3, assessors_per_session=0, seed=3)
    flag = tmp_path / "calibrated"
    shell_processor(tmp_path / "procs", "calib", _failing_until(flag))
    with xnat_over_tcp(server) as url:
        site = _site(tmp_path, url, mail, hook)
        first = run_aspider(RUN, site.env, site.home)
        assert first.returncode == 1, first.stderr
        failed = _labels(server, "JOB_FAILED")
        assert len(failed) == 3
        alerts = list(mail.inbox.mails)
        assert sorted(m.header("X-Aspider-Problem") for m in alerts) == sorted(
            f"failed:{label}" for label in failed
        )
        assert {m.header("X-Aspider-Kind") for m in alerts} == {"alert"}
        assert all("no calibration file" in m.text() for m in alerts)
        assert all("exited with code 3" in m.text() for m in alerts)
        for m in alerts:  # where to look on the cluster: the job's own directory
            label = m.header("X-Aspider-Problem").removeprefix("failed:")
            (line,) = [x for x in m.text().splitlines() if "job directory" in x]
            assert line.rstrip().endswith(f"/work/{label}"), line
        assert len(hook.posts) == 3
        assert {p.body["aspider"]["problem"] for p in hook.posts} == {f"failed:{x}" for x in failed}
        assert "notifications: 6 alert(s) sent" in first.stderr

        again = run_aspider(RUN, site.env, site.home)
        assert again.returncode == 0, again.stderr  # nothing failed in this run
        assert "notifications" not in again.stderr
        assert len(mail.inbox.mails) == 3
        assert len(hook.posts) == 3

        flag.write_text("ok")
        rerun = run_aspider(["rerun", "P1", "--status", "JOB_FAILED", "--yes"], site.env, site.home)
        assert rerun.returncode == 0, rerun.stderr
        last = run_aspider(RUN, site.env, site.home)
        assert last.returncode == 0, last.stderr
    assert _labels(server, "COMPLETE") == failed
    resolved = mail.inbox.mails[3:]
    assert {m.header("X-Aspider-Kind") for m in resolved} == {"resolved"}
    assert sorted(m.header("X-Aspider-Problem") for m in resolved) == sorted(
        f"failed:{label}" for label in failed
    )
    by_problem = {m.header("X-Aspider-Problem"): m for m in alerts}
    for reply in resolved:  # each resolution answers its alert's email
        assert reply.header("In-Reply-To") == by_problem[reply.header("X-Aspider-Problem")].header(
            "Message-ID"
        )
    assert [p.body["aspider"]["kind"] for p in hook.posts[3:]] == ["resolved"] * 3


def test_two_engines_with_different_work_roots_tell_each_failure_once(
    tmp_path: Path, mail: SmtpServer, hook: Receiver
) -> None:
    """Two `aspider run` at once on one project, each with its own work root: 4 alerts, once."""
    server = XnatServer()
    generate_project(server, "P1", sessions=4, assessors_per_session=0, seed=5)
    server.latency = 0.002  # sweeps long enough to meet at the lease
    shell_processor(tmp_path / "procs", "calib", _failing_until(tmp_path / "never"))
    with xnat_over_tcp(server) as url:
        sites = [_site(tmp_path, url, mail, hook, name=n, work=f"work-{n}") for n in "ab"]
        running = [
            subprocess.Popen(
                [ASPIDER, *RUN, "--json"],
                env=site.env,
                cwd=site.home,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for site in sites
        ]
        ended = [p.communicate(timeout=180) for p in running]
        # whichever was refused the lease, one more run of each leaves nothing new to say
        for site in sites:
            run_aspider(RUN, site.env, site.home)
    assert all(p.returncode in (0, 1) for p in running), [e[1] for e in ended]
    failed = _labels(server, "JOB_FAILED")
    assert len(failed) == 4
    told = Counter(m.header("X-Aspider-Problem") for m in mail.inbox.mails)
    assert told == Counter({f"failed:{label}": 1 for label in failed})
    posted = Counter(p.body["aspider"]["problem"] for p in hook.posts)
    assert posted == Counter({f"failed:{label}": 1 for label in failed})


def test_no_notify_sends_nothing(tmp_path: Path, mail: SmtpServer, hook: Receiver) -> None:
    """`--no-notify` sends nothing, and the next run without it tells what stands."""
    server = XnatServer()
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=3)
    shell_processor(tmp_path / "procs", "calib", _failing_until(tmp_path / "never"))
    with xnat_over_tcp(server) as url:
        site = _site(tmp_path, url, mail, hook)
        quiet = run_aspider([*RUN, "--no-notify"], site.env, site.home)
        assert quiet.returncode == 1, quiet.stderr
        assert mail.inbox.mails == []
        assert hook.posts == []
        told = run_aspider(RUN, site.env, site.home)
    assert told.returncode == 0, told.stderr
    assert [m.header("X-Aspider-Kind") for m in mail.inbox.mails] == ["alert"]


def test_a_cluster_that_cannot_be_reached_is_told_once_and_only_it_clears_it(
    tmp_path: Path, mail: SmtpServer
) -> None:
    """The login node refuses twice: one alert naming it; a run on another cluster clears not."""
    server = XnatServer()
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=3)
    shell_processor(tmp_path / "procs", "calib", "'echo ok > \"$OUTPUTS/out.txt\"'")
    known = tmp_path / "known_hosts"
    known.write_text("")
    port = free_port()
    cluster = {"executor": "slurm", "host": "127.0.0.1", "port": port, "known_hosts": str(known)}
    with xnat_over_tcp(server) as url:
        site = _site(tmp_path, url, mail, _no_hook())
        down = dict(site.env, ASPIDER_CLUSTER=json.dumps(cluster))
        for _ in range(2):
            failed = run_aspider(["run", "P1"], down, site.home)
            assert failed.returncode == 1, failed.stderr
        elsewhere = run_aspider(RUN, site.env, site.home)  # the local executor: another engine
        assert elsewhere.returncode == 0, elsewhere.stderr
    name = f"slurm at 127.0.0.1:{port}"
    told = [(m.header("X-Aspider-Kind"), m.header("X-Aspider-Problem")) for m in mail.inbox.mails]
    assert told == [("alert", f"cluster:{name}")]
    assert "cannot connect to 127.0.0.1" in mail.inbox.mails[0].text()


def test_xnat_that_does_not_answer_is_told_from_this_host_and_resolved(
    tmp_path: Path, mail: SmtpServer
) -> None:
    """XNAT down: one alert (kept in state_dir, XNAT cannot keep it); XNAT back: resolved."""
    server = XnatServer()
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=3)
    shell_processor(tmp_path / "procs", "calib", "'echo ok > \"$OUTPUTS/out.txt\"'")
    port = free_port()
    site = _site(tmp_path, f"http://127.0.0.1:{port}", mail, _no_hook())
    retry = {"attempts": 1, "budget": 0}
    for _ in range(2):  # nothing listens there yet
        env = dict(site.env, ASPIDER_XNAT__RETRY=json.dumps(retry))
        failed = run_aspider(["run", "P1"], env, site.home)
        assert failed.returncode == 1, failed.stderr
    assert [m.header("X-Aspider-Problem") for m in mail.inbox.mails] == ["xnat:P1"]
    assert list((site.home / "state").iterdir())
    with xnat_on(server, port):
        back = run_aspider(["run", "P1", "--wait", "--interval", "0.2"], site.env, site.home)
    assert back.returncode == 0, back.stderr
    assert [m.header("X-Aspider-Kind") for m in mail.inbox.mails] == ["alert", "resolved"]
