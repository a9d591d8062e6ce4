"""
`aspider notify test` and `aspider notify digest` as a person runs them: processes against the
XNAT-compatible server over TCP and real receivers on 127.0.0.1.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.aspider.processes import run_aspider, xnat_over_tcp
from tests.engine.conftest import shell_processor
from tests.notify.conftest import AUTH_WITHOUT_STARTTLS, make_site, webhook
from tests.notify.receivers import PASSWORD, Receiver, SmtpServer, free_port, smtp_server
from xnat_client.sandbox import XnatServer, generate_project

NO_XNAT = "http://127.0.0.1:9"  # `notify test` never asks XNAT anything


def test_notify_test_reports_each_channel_sent(tmp_path: Path, hook: Receiver) -> None:
    """STARTTLS with a login, and the webhook: one line each, `sent`, exit 0."""
    shell_processor(tmp_path / "procs", "calib", "'exit 0'")
    with smtp_server(tmp_path, security="starttls", auth=True) as mail:
        notify = {"email": mail.settings(["ops@lab.test", "pi@lab.test"]), "webhook": webhook(hook)}
        site = make_site(
            tmp_path / "site",
            NO_XNAT,
            tmp_path / "procs",
            notify,
            ASPIDER_NOTIFY__EMAIL__PASSWORD=PASSWORD,
        )
        result = run_aspider(["notify", "test"], site.env, site.home)
    assert result.returncode == 0, result.stderr
    port = hook.url.split(":")[2].split("/")[0]
    assert result.stdout.splitlines() == [
        f"email to ops@lab.test, pi@lab.test via 127.0.0.1:{mail.port}: sent",
        f"webhook via http://127.0.0.1:{port}/…: sent",
    ]
    (sent,) = mail.inbox.mails
    assert sent.recipients == ["ops@lab.test", "pi@lab.test"]
    assert sent.subject.startswith("[aspider] test message from ")
    assert [p.body["aspider"]["kind"] for p in hook.posts] == ["test"]
    assert PASSWORD not in result.stdout + result.stderr


def test_notify_test_on_a_closed_port_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """Nothing listens on the SMTP port: one error line naming it and what to check; exit 1."""
    shell_processor(tmp_path / "procs", "calib", "'exit 0'")
    port = free_port()
    email = {"host": "127.0.0.1", "port": port, "security": "none", "to": ["ops@lab.test"]}
    site = make_site(tmp_path / "site", NO_XNAT, tmp_path / "procs", {"email": email})
    result = run_aspider(["notify", "test"], site.env, site.home)
    assert result.returncode == 1
    assert result.stdout == ""
    said = "cannot connect (Connection refused): is the SMTP server up, are notify.email.host"
    assert result.stderr.splitlines() == [
        f"error: email to ops@lab.test via 127.0.0.1:{port}: {said} and port right?"
    ]


def test_notify_test_without_a_channel_says_how_to_add_one(tmp_path: Path) -> None:
    """No channel configured is a usage error (exit 2) that names the settings."""
    shell_processor(tmp_path / "procs", "calib", "'exit 0'")
    site = make_site(tmp_path / "site", NO_XNAT, tmp_path / "procs", {})
    result = run_aspider(["notify", "test"], site.env, site.home)
    assert result.returncode == 2
    assert "notify.email.host" in result.stderr
    assert "notify.webhook.url" in result.stderr


@AUTH_WITHOUT_STARTTLS
def test_the_smtp_password_is_in_no_log_file_or_output(tmp_path: Path) -> None:
    """Over implicit TLS with a login: the password reaches the server and nowhere else."""
    server = XnatServer()
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=3)
    shell_processor(tmp_path / "procs", "calib", "'echo $ASPIDER_NOTIFY__EMAIL__PASSWORD; exit 3'")
    with smtp_server(tmp_path, security="tls", auth=True) as mail, xnat_over_tcp(server) as url:
        notify = {"email": mail.settings(["ops@lab.test"])}
        site = make_site(
            tmp_path / "site",
            url,
            tmp_path / "procs",
            notify,
            ASPIDER_NOTIFY__EMAIL__PASSWORD=PASSWORD,
        )
        args = ["run", "P1", "--wait", "--interval", "0.2", "--log-format", "json", "-v"]
        ran = run_aspider(args, site.env, site.home)
        shown = run_aspider(["config", "show"], site.env, site.home)
    assert ran.returncode == 1, ran.stderr
    assert [m.header("X-Aspider-Kind") for m in mail.inbox.mails] == ["alert"]
    assert mail.inbox.refused_logins == 0
    for output in (ran.stdout, ran.stderr, shown.stdout, shown.stderr):
        assert PASSWORD not in output
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    assert PASSWORD not in (server_files := _xnat_files(server)), server_files[:200]


def _xnat_files(server: XnatServer) -> str:
    """Every file the archive holds (job logs as OUTLOG, the notification record), as text."""
    found = []
    project = server.store.projects["P1"]
    for resource in project.resources.values():
        found += [raw.decode(errors="replace") for raw in resource.files.values()]
    for session in project.sessions.values():
        for assessor in session.assessors.values():
            for resource in assessor.out.values():
                found += [raw.decode(errors="replace") for raw in resource.files.values()]
    return "\n".join(found)


def test_the_digest_lists_exactly_the_archive_s_state(
    tmp_path: Path, mail: SmtpServer, hook: Receiver
) -> None:
    """Completed since the last digest, failed with why, blocked on what, the queue; once."""
    server = XnatServer()
    generate_project(server, "P1", sessions=10, scans_per_session=0, assessors_per_session=0)
    shell_processor(tmp_path / "procs", "calib", "'exit 0'")
    states = [
        ("COMPLETE", "", ""),
        ("COMPLETE", "", ""),
        ("COMPLETE", "", "2020-01-01 08:00:00.0"),  # long before the last day: not "completed"
        ("JOB_FAILED", "job 11 exited with code 2; job directory: /w/a; log: bad header", ""),
        ("JOB_FAILED", "job 12 was killed for memory at 2 GB; job directory: /w/b", ""),
        ("NEED_INPUTS", "scan_t1: no scan of type T1w", ""),
        ("NEED_TO_RUN", "", ""),
        ("JOB_RUNNING", "", ""),
        ("JOB_RUNNING", "", ""),
        ("READY_TO_UPLOAD", "", ""),
    ]
    sessions = list(server.store.projects["P1"].sessions.values())
    by_status: dict[str, list[str]] = {}
    for n, (session, (status, note, when)) in enumerate(zip(sessions, states, strict=True)):
        label = f"{session.label}-x-calib_v1-x-{n:08x}"
        fields = {"proctype": "calib_v1", "procstatus": status, "note": note}
        server.store.add_assessor(
            session, label, **fields, **({"last_modified": when} if when else {})
        )
        by_status.setdefault(status, []).append(label)
    with xnat_over_tcp(server) as url:
        notify = {"email": mail.settings(["ops@lab.test"]), "webhook": webhook(hook)}
        site = make_site(tmp_path / "site", url, tmp_path / "procs", notify)
        first = run_aspider(["notify", "digest", "P1"], site.env, site.home)
        again = run_aspider(["notify", "digest", "P1"], site.env, site.home)
    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    assert "went out already" in again.stdout
    (digest,) = mail.inbox.mails
    text = digest.text()
    assert _listed(text, "completed since") == by_status["COMPLETE"][:2]
    assert _listed(text, "failed") == by_status["JOB_FAILED"]
    assert _listed(text, "blocked, waiting for inputs") == by_status["NEED_INPUTS"]
    assert "job 11 exited with code 2" in text
    assert "bad header" not in text  # the reason, not the log tail
    assert "job 12 was killed for memory at 2 GB" in text
    assert "scan_t1: no scan of type T1w" in text
    assert (
        "queue: 1 waiting to be submitted, 2 submitted (queued or running), 1 to be uploaded"
        in text
    )
    assert (
        "calib_v1: COMPLETE 3, JOB_FAILED 2, JOB_RUNNING 2, NEED_INPUTS 1, NEED_TO_RUN 1, " in text
    )
    assert digest.subject.endswith("P1: 2 completed, 2 failed, 1 blocked")
    html = digest.html()
    for label in by_status["JOB_FAILED"] + by_status["NEED_INPUTS"]:
        assert label in html
    assert [p.body["aspider"]["kind"] for p in hook.posts] == ["digest"]


def _listed(text: str, heading: str) -> list[str]:
    """The task labels listed under a heading of the digest's text."""
    labels = []
    for line in text.split(f"\n  {heading}", 1)[1].splitlines()[1:]:
        if not line.startswith("    "):
            break
        labels += re.findall(r"\bP1_S\d+_MR\d+-x-calib_v1-x-[0-9a-f]{8}\b", line)
    return labels
