"""
A hundred failures at once: at most `alerts_per_hour` alerts per channel, then one note of how
many were held back, pointing at the status page; the next run sends nothing more. And a
task blocked for longer than `blocked_after_days` is an alert of its own.
"""

from __future__ import annotations

from pathlib import Path

from tests.aspider.processes import run_aspider, xnat_over_tcp
from tests.engine.conftest import shell_processor
from tests.notify.conftest import make_site, webhook
from tests.notify.receivers import Receiver, SmtpServer
from xnat_client.sandbox import XnatServer, generate_project

STATUS_PAGE = "https://aspider.lab.test/"
NOTE = "job {n} exited with code 3; job directory: /work/x; log: segfault in recon-all"


def _archive(failed: int, blocked: int = 0) -> XnatServer:
    """Sessions without scans (nothing to run), each with one task of calib_v1 in a state."""
    server = XnatServer()
    generate_project(
        server, "P1", sessions=failed + blocked, scans_per_session=0, assessors_per_session=0
    )
    sessions = list(server.store.projects["P1"].sessions.values())
    for n, session in enumerate(sessions):
        fields = {"proctype": "calib_v1", "procversion": "1.0.0", "jobid": str(n)}
        if n < failed:
            fields.update(procstatus="JOB_FAILED", note=NOTE.format(n=n))
        else:
            fields.update(
                procstatus="NEED_INPUTS",
                note="scan_t1: no scan of type T1w",
                last_modified="2020-01-01 08:00:00.0",
            )
        server.store.add_assessor(session, f"{session.label}-x-calib_v1-x-{n:08x}", **fields)
    return server


def test_the_rate_limit_holds_over_a_hundred_failures(
    tmp_path: Path, mail: SmtpServer, hook: Receiver
) -> None:
    """100 failed tasks, 10 alerts an hour: 10 alerts and one note of 90 held back, per channel."""
    server = _archive(failed=100)
    shell_processor(tmp_path / "procs", "calib", "'exit 3'")
    notify = {
        "email": mail.settings(["ops@lab.test"]),
        "webhook": webhook(hook),
        "alerts_per_hour": 10,
        "status_url": STATUS_PAGE,
    }
    with xnat_over_tcp(server) as url:
        site = make_site(tmp_path / "site", url, tmp_path / "procs", notify)
        first = run_aspider(["run", "P1"], site.env, site.home)
        assert first.returncode == 0, first.stderr
        again = run_aspider(["run", "P1"], site.env, site.home)
        assert again.returncode == 0, again.stderr
    kinds = [m.header("X-Aspider-Kind") for m in mail.inbox.mails]
    assert kinds == ["alert"] * 10 + ["held_back"]
    note = mail.inbox.mails[-1]
    assert "90 more alert(s) held back" in note.subject
    assert STATUS_PAGE in note.text()
    assert [p.body["aspider"]["kind"] for p in hook.posts] == ["alert"] * 10 + ["held_back"]
    assert hook.posts[-1].body["aspider"]["fields"] == {"held back": "90"}
    assert "20 alert(s) sent, 180 held back" in first.stderr  # two channels
    assert "notifications" not in again.stderr


def test_a_task_blocked_for_long_is_told_once(
    tmp_path: Path, mail: SmtpServer, hook: Receiver
) -> None:
    """NEED_INPUTS for years, past `blocked_after_days`: one alert naming what it waits for."""
    server = _archive(failed=0, blocked=2)
    shell_processor(tmp_path / "procs", "calib", "'exit 3'")
    notify = {"email": mail.settings(["ops@lab.test"]), "blocked_after_days": 30}
    with xnat_over_tcp(server) as url:
        site = make_site(tmp_path / "site", url, tmp_path / "procs", notify)
        for _ in range(2):
            done = run_aspider(["run", "P1"], site.env, site.home)
            assert done.returncode == 0, done.stderr
    assert [m.header("X-Aspider-Problem")[:8] for m in mail.inbox.mails] == ["blocked:"] * 2
    assert all("scan_t1: no scan of type T1w" in m.text() for m in mail.inbox.mails)
    assert all("blocked on" in m.subject for m in mail.inbox.mails)
