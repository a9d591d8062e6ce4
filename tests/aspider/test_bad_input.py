"""
Mistakes a person makes, and what `aspider` says: one line naming the fix, the right exit
status, and nothing changed (in XNAT, or on the cluster).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import asyncssh
import pytest

from aspider.cli import app
from tests.aspider.conftest import runner, use_demo_processors
from tests.aspider.processes import DEMO_PROCESSORS, clean_env, run_aspider
from tests.conftest import ClusterProfile
from xnat_client.sandbox import XnatServer


def _writes(server: XnatServer) -> list[str]:
    return [
        f"{r.method} {r.path}"
        for r in server.requests
        if r.method in ("PUT", "POST", "DELETE") and "JSESSION" not in r.path
    ]


def _closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


def _use_cluster(
    monkeypatch: pytest.MonkeyPatch, cluster: ClusterProfile, known_hosts: Path, port: int = 0
) -> None:
    monkeypatch.setenv("ASPIDER_CLUSTER__EXECUTOR", "pbs")
    monkeypatch.setenv("ASPIDER_CLUSTER__HOST", cluster.host)
    monkeypatch.setenv("ASPIDER_CLUSTER__PORT", str(port or cluster.port))
    monkeypatch.setenv("ASPIDER_CLUSTER__USER", cluster.user)
    monkeypatch.setenv("ASPIDER_CLUSTER__KEY_PATH", str(cluster.key_path))
    monkeypatch.setenv("ASPIDER_CLUSTER__KNOWN_HOSTS", str(known_hosts))
    monkeypatch.setenv("ASPIDER_CLUSTER__WORK_ROOT", str(cluster.work_root / "bad-input"))


@pytest.mark.cluster
@pytest.mark.parametrize("command", [["run", "DEMO", "--dry-run"], ["status", "DEMO"]])
def test_an_unknown_host_key_is_a_settings_error(
    server: XnatServer,
    monkeypatch: pytest.MonkeyPatch,
    cluster: ClusterProfile,
    tmp_path: Path,
    command: list[str],
) -> None:
    """The cluster's key is not in known_hosts: exit 2, the ssh-keyscan fix, nothing written."""
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    _use_cluster(monkeypatch, cluster, empty)
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    (line,) = _error_lines(result.stderr)
    assert "not trusted" in line
    assert "ssh-keyscan" in line
    assert _writes(server) == []


@pytest.mark.parametrize("command", [["run", "DEMO", "--dry-run"], ["status", "DEMO"]])
def test_an_unreachable_cluster_fails_the_dry_run_and_status(
    server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: list[str]
) -> None:
    """Nothing listens where the settings say the login node is: exit 1, one error line."""
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    key = tmp_path / "key"
    key.write_bytes(asyncssh.generate_private_key("ssh-ed25519").export_private_key())
    monkeypatch.setenv("ASPIDER_CLUSTER__EXECUTOR", "pbs")
    monkeypatch.setenv("ASPIDER_CLUSTER__HOST", "127.0.0.1")
    monkeypatch.setenv("ASPIDER_CLUSTER__PORT", str(_closed_port()))
    monkeypatch.setenv("ASPIDER_CLUSTER__KEY_PATH", str(key))
    monkeypatch.setenv("ASPIDER_CLUSTER__KNOWN_HOSTS", str(known_hosts))
    result = runner.invoke(app, command)
    assert result.exit_code == 1, result.output
    (line,) = _error_lines(result.stderr)
    assert "cluster: cannot connect to 127.0.0.1" in line
    assert _writes(server) == []


@pytest.mark.parametrize("missing", ["key_path", "known_hosts"])
def test_a_missing_key_or_known_hosts_file_is_not_retried(
    server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, missing: str
) -> None:
    """A file that is not there: exit 2 at once, naming the setting and the file; no retries."""
    files = {"key_path": tmp_path / "key", "known_hosts": tmp_path / "known_hosts"}
    for name, path in files.items():
        if name != missing:
            path.write_text("")
    monkeypatch.setenv("ASPIDER_CLUSTER__EXECUTOR", "pbs")
    monkeypatch.setenv("ASPIDER_CLUSTER__HOST", "127.0.0.1")
    monkeypatch.setenv("ASPIDER_CLUSTER__KEY_PATH", str(files["key_path"]))
    monkeypatch.setenv("ASPIDER_CLUSTER__KNOWN_HOSTS", str(files["known_hosts"]))
    result = runner.invoke(app, ["run", "DEMO", "--dry-run"])
    assert result.exit_code == 2, result.output
    (line,) = _error_lines(result.stderr)
    assert line.startswith(f"error: cluster: {missing} {files[missing]} does not exist; ")
    fix = {
        "known_hosts": "`ssh-keyscan -p 22 127.0.0.1 >> ",
        "key_path": "`ssh-keygen -t ed25519 -f ",
    }
    assert fix[missing] + str(files[missing]) in line
    assert "retrying" not in result.output


def test_a_key_file_that_is_no_key_is_named(
    server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """key_path names a file that holds no private key: exit 2, the file, no traceback."""
    (tmp_path / "known_hosts").write_text("")
    (tmp_path / "key").write_text("not a key\n")
    monkeypatch.setenv("ASPIDER_CLUSTER__EXECUTOR", "pbs")
    monkeypatch.setenv("ASPIDER_CLUSTER__HOST", "127.0.0.1")
    monkeypatch.setenv("ASPIDER_CLUSTER__PORT", str(_closed_port()))
    monkeypatch.setenv("ASPIDER_CLUSTER__KEY_PATH", str(tmp_path / "key"))
    monkeypatch.setenv("ASPIDER_CLUSTER__KNOWN_HOSTS", str(tmp_path / "known_hosts"))
    result = runner.invoke(app, ["run", "DEMO", "--dry-run"])
    assert result.exit_code == 2, result.output
    expected = (
        f"error: cluster: key_path {tmp_path / 'key'} cannot be used as a private key: "
        "Invalid private key"
    )
    assert _error_lines(result.stderr) == [expected]


def test_a_missing_processor_folder_is_named(server: XnatServer, tmp_path: Path) -> None:
    """A processor_paths entry that does not exist: that path, and where it was set; exit 2."""
    gone = tmp_path / "nope"
    env_paths = json.dumps([str(DEMO_PROCESSORS), str(gone)])
    result = runner.invoke(
        app, ["run", "DEMO", "--dry-run"], env={"ASPIDER_PROCESSOR_PATHS": env_paths}
    )
    assert result.exit_code == 2
    assert _error_lines(result.stderr) == [
        f"error: processor folder or file {gone} does not exist (processor_paths in the settings)"
    ]


def test_an_empty_processor_folder_is_a_settings_error(server: XnatServer, tmp_path: Path) -> None:
    """A folder without processor files: run says so (exit 2) instead of doing nothing."""
    result = runner.invoke(app, ["run", "DEMO"], env={"ASPIDER_PROCESSOR_PATHS": f'["{tmp_path}"]'})
    assert result.exit_code == 2, result.output
    (line,) = _error_lines(result.stderr)
    assert f"no processors in {tmp_path}" in line
    assert "_v<X.Y.Z>.yaml" in line
    assert _writes(server) == []


def test_xnat_unreachable_changes_nothing_and_says_so_once(tmp_path: Path) -> None:
    """No XNAT at the URL: exit 1, one line, no retry warnings, no .aspider/ in the work root."""
    work = tmp_path / "work"
    env = clean_env(
        tmp_path,
        ASPIDER_XNAT__URL=f"http://127.0.0.1:{_closed_port()}",
        ASPIDER_PROCESSOR_PATHS=json.dumps([str(DEMO_PROCESSORS)]),
        ASPIDER_CLUSTER__WORK_ROOT=str(work),
    )
    result = run_aspider(["run", "P1"], env, tmp_path)
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: XNAT: GET /data/projects: no answer")
    assert line.endswith("is XNAT up, and is xnat.url right?")
    assert not work.exists()


def test_malformed_yaml_is_one_line_with_its_position(tmp_path: Path) -> None:
    """A settings file that is not YAML: file:line:column and the problem, on one line; exit 2."""
    settings = tmp_path / "aspider.yaml"
    settings.write_text("xnat:\n  url: [https://x\n")
    result = runner.invoke(app, ["config", "show", "--settings", str(settings)])
    assert result.exit_code == 2
    expected = (
        f"error: {settings}:3:1: not valid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence)"
    )
    assert _error_lines(result.stderr) == [expected]


def test_a_misspelt_key_gets_a_did_you_mean(tmp_path: Path) -> None:
    """`xnat.ulr` and `limts`: each one line, naming the file and the key it probably meant."""
    settings = tmp_path / "aspider.yaml"
    settings.write_text("xnat:\n  ulr: https://x\nlimts:\n  max_queued: 3\n")
    result = runner.invoke(app, ["config", "show", "--settings", str(settings)])
    assert result.exit_code == 2
    assert _error_lines(result.stderr) == [
        f"error: xnat.ulr (in {settings}): unknown key; did you mean xnat.url?",
        f"error: limts (in {settings}): unknown section; did you mean limits?",
    ]


def test_a_bad_value_from_the_environment_names_the_variable() -> None:
    """ASPIDER_LIMITS__MAX_QUEUED=many: the variable, and what it should be."""
    result = runner.invoke(app, ["config", "show"], env={"ASPIDER_LIMITS__MAX_QUEUED": "many"})
    assert result.exit_code == 2
    (line,) = _error_lines(result.stderr)
    assert line.startswith("error: limits.max_queued (from ASPIDER_LIMITS__MAX_QUEUED): ")
    assert "valid integer" in line


def test_an_xnat_url_without_scheme_says_what_to_write(server: XnatServer) -> None:
    """xnat.example.org: no traceback, the URL to write instead; exit 2."""
    result = runner.invoke(app, ["status", "DEMO"], env={"ASPIDER_XNAT__URL": "xnat.example.org"})
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    expected = (
        "error: xnat.url 'xnat.example.org' is not an http(s) URL: write it with its scheme, "
        "e.g. https://xnat.example.org"
    )
    assert _error_lines(result.stderr) == [expected]


def test_status_of_an_unknown_processor_is_an_error(server: XnatServer) -> None:
    """status -p nosuch_v1 names the processors there are instead of an empty table; exit 2."""
    result = runner.invoke(app, ["status", "DEMO", "-p", "nosuch_v1", "--xnat-only"])
    assert result.exit_code == 2
    (line,) = _error_lines(result.stderr)
    assert line.startswith("error: no processor named 'nosuch_v1' in DEMO; known: ")
    assert "freesurfer_v7" in line  # a loaded processor
    assert "fs7_v1" in line  # a proctype of the project's assessors
    shown = runner.invoke(app, ["status", "DEMO", "-p", "fs7", "--xnat-only"])
    assert shown.exit_code == 0, shown.output
    assert "fs7_v1" in shown.stdout
    assert "dwi_preproc_v1" not in shown.stdout


def test_config_show_says_which_settings_file_it_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file found in the working directory is named, and so is its absence."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ASPIDER_SETTINGS", raising=False)
    none = runner.invoke(app, ["config", "show"])
    assert none.exit_code == 0, none.output
    assert "# no settings file found" in none.stdout
    (tmp_path / "aspider.yaml").write_text("cluster:\n  queue: short\n")
    found = runner.invoke(app, ["config", "show"])
    assert found.exit_code == 0, found.output
    assert f"# settings file: {tmp_path / 'aspider.yaml'}" in found.stdout
    assert "queue: short" in found.stdout


def test_run_with_no_project_never_sweeps_everything(
    server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Projects configured, none named and no --all: exit 2, --all suggested, nothing written."""
    use_demo_processors(monkeypatch, tmp_path)
    monkeypatch.setenv("ASPIDER_PROJECTS", '{"DEMO": {}}')
    before = len(list(server.store.assessors_of("DEMO")))
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    (line,) = _error_lines(result.stderr)
    assert "--all" in line
    assert "DEMO" in line
    assert len(list(server.store.assessors_of("DEMO"))) == before


def test_run_with_no_project_says_how_to_name_one(
    server: XnatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`aspider run` with no project and none configured: how to give one; exit 2."""
    use_demo_processors(monkeypatch, tmp_path)
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    (line,) = _error_lines(result.stderr)
    assert "aspider run PROJ" in line
