"""
No child of `aspider` receives a secret given in the environment: not the compiler probes of
asyncssh's import, not a local job, not the SMTP password the alerts log in with. Run as
processes, with the password as a marker.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aspider._environ import SecretStore, is_secret
from tests.aspider.processes import clean_env, run_aspider, xnat_over_tcp
from tests.engine.conftest import shell_processor
from tests.notify.receivers import PASSWORD as SMTP_PASSWORD
from tests.notify.receivers import smtp_server
from xnat_client.sandbox import XnatServer, generate_project

MARKER = "pw-marker-5f3a9c"


def _shims(folder: Path, record: Path) -> Path:
    """`gcc`, `cc` and `ld` that write their environment to `record` and fail."""
    folder.mkdir()
    for tool in ("gcc", "cc", "ld"):
        shim = folder / tool
        shim.write_text(f'#!/bin/sh\nenv > "{record}/{tool}.$$"\nexit 1\n')
        shim.chmod(0o755)
    return folder


def test_the_compiler_probes_of_asyncssh_s_import_never_see_the_password(tmp_path: Path) -> None:
    """`aspider --help` imports asyncssh, which runs gcc/ld: their environment has no password."""
    record = tmp_path / "record"
    record.mkdir()
    shims = _shims(tmp_path / "shims", record)
    env = clean_env(tmp_path, ASPIDER_XNAT__PASSWORD=MARKER)
    env["PATH"] = f"{shims}:{env['PATH']}"
    result = run_aspider(["--help"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    seen = sorted(record.iterdir())
    assert seen, "the probes did not run: this test would prove nothing"
    for environment in seen:
        assert MARKER not in environment.read_text(), environment.name


def test_a_local_job_s_environment_holds_no_secret_yet_the_login_used_it(tmp_path: Path) -> None:
    """A sweep logs in with the password from the environment; /proc/<job>/environ lacks it."""
    server = XnatServer(users={"admin": MARKER})
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=3)
    seen = tmp_path / "seen"
    seen.mkdir()
    script = f"'cat /proc/$$/environ > {seen}/environ.$$; echo ok > \"$OUTPUTS/out.txt\"'"
    shell_processor(tmp_path / "procs", "envprobe", script)
    with xnat_over_tcp(server) as url:
        env = clean_env(
            tmp_path,
            ASPIDER_XNAT__URL=url,
            ASPIDER_XNAT__USER="admin",
            ASPIDER_XNAT__PASSWORD=MARKER,
            ASPIDER_PROCESSOR_PATHS=json.dumps([str(tmp_path / "procs")]),
            ASPIDER_CLUSTER__WORK_ROOT=str(tmp_path / "work"),
        )
        result = run_aspider(["run", "P1", "--wait", "--interval", "0.2", "--json"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["by_processor"]["envprobe_v1"]["completed"] == 1
    (environ,) = seen.iterdir()
    variables = environ.read_bytes().split(b"\0")
    assert not [v for v in variables if MARKER.encode() in v]
    assert not [v for v in variables if v.startswith(b"ASPIDER_")]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_the_smtp_password_logs_in_yet_no_job_and_no_file_holds_it(tmp_path: Path) -> None:
    """The alert of a failed job logs in with ASPIDER_NOTIFY__EMAIL__PASSWORD; the job lacks it."""
    server = XnatServer()
    generate_project(server, "P1", sessions=1, assessors_per_session=0, seed=3)
    seen = tmp_path / "seen"
    seen.mkdir()
    script = f"'cat /proc/$$/environ > {seen}/environ.$$; exit 3'"
    shell_processor(tmp_path / "procs", "envprobe", script)
    with (
        smtp_server(tmp_path, security="tls", auth=True) as mail,
        xnat_over_tcp(server) as url,
    ):
        email = mail.settings(["ops@lab.test"])
        env = clean_env(
            tmp_path,
            ASPIDER_XNAT__URL=url,
            ASPIDER_XNAT__USER="admin",
            ASPIDER_XNAT__PASSWORD="admin",
            ASPIDER_PROCESSOR_PATHS=json.dumps([str(tmp_path / "procs")]),
            ASPIDER_CLUSTER__WORK_ROOT=str(tmp_path / "work"),
            ASPIDER_NOTIFY__EMAIL=json.dumps(email),
            ASPIDER_NOTIFY__STATE_DIR=str(tmp_path / "state"),
            ASPIDER_NOTIFY__EMAIL__PASSWORD=SMTP_PASSWORD,
        )
        args = ["run", "P1", "--wait", "--interval", "0.2", "--log-format", "json", "-v"]
        result = run_aspider(args, env, tmp_path)
    assert result.returncode == 1, result.stderr
    assert [m.header("X-Aspider-Kind") for m in mail.inbox.mails] == ["alert"]
    (environ,) = seen.iterdir()
    variables = environ.read_bytes().split(b"\0")
    assert not [v for v in variables if SMTP_PASSWORD.encode() in v]
    assert not [v for v in variables if v.startswith(b"ASPIDER_")]
    assert SMTP_PASSWORD not in result.stdout + result.stderr
    for path in tmp_path.rglob("*"):
        assert not path.is_file() or SMTP_PASSWORD.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("ASPIDER_XNAT__PASSWORD", True),
        ("ASPIDER_NOTIFY__EMAIL__PASSWORD", True),
        ("ASPIDER_NOTIFY__WEBHOOK__TOKEN", True),
        ("ASPIDER_NOTIFY__EMAIL__PASSWORD_FILE", False),
        ("ASPIDER_XNAT__SECRET", True),
        ("ASPIDER_CLUSTER__KEY_PASSPHRASE", True),
        ("aspider_xnat__password", True),
        ("ASPIDER_XNAT__PASSWORD_FILE", False),
        ("ASPIDER_XNAT__URL", False),
        ("XNAT_PASSWORD", False),
    ],
)
def test_which_variables_are_secrets(name: str, secret: bool) -> None:
    """Secrets are named by their last part; a secret file's path is not a secret."""
    assert is_secret(name) is secret


def test_taking_secrets_leaves_the_rest() -> None:
    """Only the secrets leave the mapping given, and the settings get them back as data."""
    env = {"ASPIDER_XNAT__PASSWORD": "x", "ASPIDER_XNAT__URL": "https://x", "PATH": "/bin"}
    store = SecretStore()
    assert store.take(env) == ["ASPIDER_XNAT__PASSWORD"]
    assert env == {"ASPIDER_XNAT__URL": "https://x", "PATH": "/bin"}
    assert store.as_settings() == {"xnat": {"password": "x"}}
