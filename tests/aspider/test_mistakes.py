"""
A site's first-week mistakes, with `aspider` run as a process: each gets one line that names
the fix, exit 2 for configuration (1 for runtime, 130 for Ctrl-C), and nothing written to XNAT.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.aspider.processes import ASPIDER, DEMO_PROCESSORS, clean_env, run_aspider, xnat_over_tcp
from tests.engine.conftest import T1_SHELL_PROCESSOR
from xnat_client.sandbox import XnatServer, generate_project


@pytest.fixture
def server() -> XnatServer:
    srv = XnatServer()
    generate_project(srv, "DEMO", sessions=2, assessors_per_session=0, seed=3)
    return srv


@pytest.fixture
def url(server: XnatServer) -> Iterator[str]:
    with xnat_over_tcp(server) as found:
        yield found


def _env(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    values = {
        "ASPIDER_XNAT__URL": url,
        "ASPIDER_XNAT__USER": "admin",
        "ASPIDER_XNAT__PASSWORD": "admin",
        "ASPIDER_PROCESSOR_PATHS": json.dumps([str(DEMO_PROCESSORS)]),
        "ASPIDER_CLUSTER__WORK_ROOT": str(tmp_path / "work"),
    }
    values.update(extra)
    return clean_env(tmp_path, **{k: v for k, v in values.items() if v})


def _writes(server: XnatServer) -> list[str]:
    return [
        f"{r.method} {r.path}"
        for r in server.requests
        if r.method != "GET" and "JSESSION" not in r.path
    ]


def _one_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    (line,) = [line for line in stderr.splitlines() if line.startswith("error: ")]
    return line


def test_a_project_in_the_wrong_case_gets_did_you_mean(
    server: XnatServer, url: str, tmp_path: Path
) -> None:
    """`run demo`: the project XNAT lists is DEMO; exit 2 and not one write (not a lease)."""
    result = run_aspider(["run", "demo"], _env(tmp_path, url), tmp_path)
    assert result.returncode == 2, result.stderr
    line = _one_error(result.stderr)
    assert line.endswith("lists no such project for admin; did you mean DEMO?"), line
    assert _writes(server) == []


@pytest.mark.parametrize(
    "command",
    [
        ["run", "DEMO", "--session", "DEMO_S0001"],
        ["run", "DEMO", "--dry-run", "--session", "DEMO_S0001"],
        ["explain", "DEMO", "DEMO_S0001", "--json"],
    ],
)
def test_a_misspelt_session_is_named_with_the_nearest(
    server: XnatServer, url: str, tmp_path: Path, command: list[str]
) -> None:
    """Not "nothing to do": the session is not in the project; did you mean DEMO_S00001? exit 2."""
    result = run_aspider(command, _env(tmp_path, url), tmp_path)
    assert result.returncode == 2, result.stderr
    line = _one_error(result.stderr)
    expected = "error: session 'DEMO_S0001' is not in DEMO (did you mean DEMO_S0000"
    assert line.startswith(expected), line
    if "--json" in command:
        assert json.loads(result.stdout)["exit"] == 2
    assert [w for w in _writes(server) if "aspider_lease" not in w] == []


def test_a_variable_is_blamed_for_its_own_value(url: str, tmp_path: Path) -> None:
    """The settings file says pbs, ASPIDER_CLUSTER__EXECUTOR says slurmm: the variable is named."""
    (tmp_path / "aspider.yaml").write_text("cluster:\n  executor: pbs\n  host: login\n")
    env = _env(tmp_path, url, ASPIDER_CLUSTER__EXECUTOR="slurmm")
    result = run_aspider(["config", "show"], env, tmp_path)
    assert result.returncode == 2
    line = _one_error(result.stderr)
    assert line.startswith("error: cluster.executor (from ASPIDER_CLUSTER__EXECUTOR): "), line
    assert "'slurmm'" in line


def test_no_settings_file_says_where_it_looked(tmp_path: Path) -> None:
    """Outside a settings folder, nothing set: the files looked for, and `aspider init`."""
    for command in (["run", "DEMO"], ["status", "DEMO"]):
        result = run_aspider(command, clean_env(tmp_path), tmp_path)
        assert result.returncode == 2, result.stderr
        line = _one_error(result.stderr)
        assert line.startswith("error: no settings file found (looked in ./aspider.yaml, "), line
        assert "ASPIDER_SETTINGS is not set" in line
        assert "`aspider init`" in line


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("wrong", "refused user 'admin' with the password from ASPIDER_XNAT__PASSWORD"),
        ("", "refused user 'admin' with the password of ~/.netrc for 127.0.0.1"),
    ],
)
def test_a_refused_login_names_the_user_and_where_the_password_goes(
    url: str, tmp_path: Path, password: str, expected: str
) -> None:
    """401: the user, the source of the password, exit 2; never the password itself."""
    env = _env(tmp_path, url, ASPIDER_XNAT__PASSWORD=password)
    result = run_aspider(["status", "DEMO"], env, tmp_path)
    assert result.returncode == 2, result.stderr
    line = _one_error(result.stderr)
    assert expected in line, line
    assert "wrong" not in result.stderr


def test_no_credentials_at_all_says_what_to_set(url: str, tmp_path: Path) -> None:
    env = _env(tmp_path, url, ASPIDER_XNAT__USER="", ASPIDER_XNAT__PASSWORD="")
    result = run_aspider(["run", "DEMO", "--dry-run"], env, tmp_path)
    assert result.returncode == 2, result.stderr
    line = _one_error(result.stderr)
    assert "wants a login and aspider has none: set xnat.user" in line, line
    assert "`machine 127.0.0.1 login USER password ...`" in line


def test_ctrl_c_on_wait_says_what_is_in_flight(
    server: XnatServer, url: str, tmp_path: Path
) -> None:
    """Ctrl-C after a sweep submitted two jobs: exit 130, a line counting them and the command
    that picks them up; the jobs' assessors say where they stand."""
    folder = tmp_path / "procs"
    folder.mkdir()
    script = "'sleep 20; echo done > out.txt'"
    (folder / "slow_v1.0.0.yaml").write_text(T1_SHELL_PROCESSOR % script)
    env = _env(tmp_path, url, ASPIDER_PROCESSOR_PATHS=json.dumps([str(folder)]))
    process = subprocess.Popen(
        [ASPIDER, "run", "DEMO", "--wait", "--interval", "0.5"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A Ctrl-C from a terminal, even when pytest was started with SIGINT ignored (a
        # background job): the child resets one signal, which takes no lock a thread could hold.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "sweep 1 of DEMO" in line:
            break
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=60)
    assert process.returncode == 130, "".join(seen) + rest
    (said,) = [line for line in rest.splitlines() if "interrupted" in line]
    found = re.search(r"interrupted: (\d+) job\(s\) queued and (\d+) running", said)
    assert found is not None, said
    assert int(found[1]) + int(found[2]) == 2
    assert "`aspider run DEMO` follows the jobs" in said
    assert "Traceback" not in rest


def test_a_problem_on_line_100_is_named_as_such(tmp_path: Path) -> None:
    """`file:100:` stays digits (rich would draw it as an emoji)."""
    bad = tmp_path / "long_v1.0.0.yaml"
    bad.write_text("# padding\n" * 99 + "colour: blue\n")
    result = run_aspider(["processors", "--validate", str(bad)], clean_env(tmp_path), tmp_path)
    assert result.returncode == 1, result.stderr
    assert f"{bad}:100: " in result.stderr, result.stderr
