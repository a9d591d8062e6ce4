"""
From the demo to a first real sweep: the demo's "Next" commands work as typed, `aspider init`
writes settings that load, and examples/settings.yaml documents every setting there is.
"""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from aspider.cli.demo import next_steps
from aspider.settings import AspiderSettings, load_settings
from tests.aspider.processes import REPO, clean_env, run_aspider

EXAMPLE = REPO / "examples" / "settings.yaml"

# Keys the example documents ahead of the settings model (XNAT's TLS, proxy, timeouts and
# retry, and the HTTP limit moving from limits: to xnat:). When a key becomes a real setting,
# its entry here must go: the test below fails until it does.
NOT_YET_SETTINGS: set[tuple[str, str]] = set()
MOVING_OUT: set[tuple[str, str]] = set()
SECRETS = {("xnat", "password"), ("xnat", "secret")}  # never in the file: the example says where


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _commands(text: str) -> list[str]:
    """The hint's indented lines that run aspider, continuation lines joined."""
    joined = text.replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines() if line.startswith("  ")]
    return [line for line in lines if "aspider " in line]


def test_the_demo_s_next_steps_work_as_typed(tmp_path: Path) -> None:
    """sandbox, init, run: the hint's three commands (on a free port) end with tasks COMPLETE."""
    port = str(_free_port())
    sandbox, init, run = (c.replace("8080", port) for c in _commands(next_steps(None)))
    env = clean_env(tmp_path)
    assert sandbox.endswith(" &")
    with subprocess.Popen(
        shlex.split(sandbox[:-2]), env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True
    ) as server:
        try:
            swept, assignments = _init_and_run(server, init, run, env, tmp_path)
        finally:
            server.terminate()
    assert swept.returncode == 0, swept.stderr
    assert "imgstats_v1" in swept.stdout
    assert "sessreport_v1" in swept.stdout
    assert assignments == {"ASPIDER_XNAT__PASSWORD": "admin"}


def _init_and_run(
    server: subprocess.Popen[str], init: str, run: str, env: dict[str, str], cwd: Path
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Once the sandbox listens: the hint's `init`, then its `run` with its variables."""
    assert server.stdout is not None
    assert "XNAT sandbox at" in server.stdout.readline()  # listening from here on
    written = run_aspider(shlex.split(init)[1:], env, cwd)
    assert written.returncode == 0, written.stderr
    words = shlex.split(run)
    first = next(i for i, w in enumerate(words) if "=" not in w)
    assignments = dict(w.split("=", 1) for w in words[:first])
    assert words[first] == "aspider"
    return run_aspider(words[first + 1 :], {**env, **assignments}, cwd), assignments


def test_init_writes_settings_that_load(tmp_path: Path) -> None:
    """Local executor by default; with --cluster-host Slurm over SSH; both valid."""
    env = clean_env(tmp_path)
    local = run_aspider(
        ["init", "--xnat-url", "https://xnat.example.org/", "--project", "P1"], env, tmp_path
    )
    assert local.returncode == 0, local.stderr
    settings = load_settings(tmp_path / "aspider.yaml")
    assert (settings.xnat.url, settings.cluster.executor) == ("https://xnat.example.org", "local")
    assert settings.processor_paths == (tmp_path / "processors",)
    assert list(settings.projects) == ["P1"]
    assert "put your processor files in" in local.stdout.lower()
    examples = re.search(r"examples to start from are in\s+(\S+)", local.stdout)
    assert examples is not None, local.stdout
    assert (Path(examples[1]) / "freesurfer_v7.2.0.yaml").is_file()
    again = run_aspider(["init", "--xnat-url", "https://x.example.org"], env, tmp_path)
    assert again.returncode == 2
    assert "pass --force" in again.stderr
    ssh = run_aspider(
        ["init", "other.yaml", "--xnat-url", "https://x.example.org", "--cluster-host", "login"],
        env,
        tmp_path,
    )
    assert ssh.returncode == 0, ssh.stderr
    cluster = load_settings(tmp_path / "other.yaml").cluster
    assert (cluster.executor, cluster.host, cluster.work_root) == ("slurm", "login", "aspider-work")
    assert "ASPIDER_SETTINGS=" in ssh.stdout
    assert (
        "relative: under your home directory on the cluster"
        in (tmp_path / "other.yaml").read_text()
    )


@pytest.mark.parametrize("executor", ["slurm", "pbs", "local"])
def test_init_writes_the_executor_asked_for(tmp_path: Path, executor: str) -> None:
    """--executor, with or without a login node; local with one is a contradiction (exit 2)."""
    env = clean_env(tmp_path)
    args = ["init", "--xnat-url", "https://x.example.org", "--executor", executor]
    here = run_aspider(args, env, tmp_path)
    assert here.returncode == 0, here.stderr
    assert load_settings(tmp_path / "aspider.yaml").cluster.executor == executor
    remote = run_aspider([*args, "--cluster-host", "login", "--force"], env, tmp_path)
    if executor == "local":
        assert remote.returncode == 2
        assert "--executor local runs jobs on this machine" in remote.stderr
    else:
        assert remote.returncode == 0, remote.stderr
        cluster = load_settings(tmp_path / "aspider.yaml").cluster
        assert (cluster.executor, cluster.host) == (executor, "login")


def test_init_refuses_a_url_without_scheme(tmp_path: Path) -> None:
    """`--xnat-url xnat.example.org`: the URL to write instead; nothing written; exit 2."""
    result = run_aspider(["init", "--xnat-url", "xnat.example.org"], clean_env(tmp_path), tmp_path)
    assert result.returncode == 2
    assert "https://xnat.example.org" in result.stderr
    assert not (tmp_path / "aspider.yaml").exists()


def _fields(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every (section, key) of the settings model."""
    out: set[tuple[str, ...]] = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and not prefix:
            out |= _fields(annotation, (name,))
        else:
            out.add((*prefix, name))
    return out


def _keys(data: dict[str, Any]) -> set[tuple[str, ...]]:
    sections = ("xnat", "cluster", "limits", "retry", "tune", "serve", "notify")
    keys = {(k,) for k in data if k not in sections}
    return keys | {(s, k) for s in sections for k in data.get(s, {})}


def test_the_example_settings_cover_every_setting_and_load(tmp_path: Path) -> None:
    """Every field of the settings is in examples/settings.yaml, and the file loads."""
    data = yaml.safe_load(EXAMPLE.read_text())
    documented = _keys(data)
    settings_fields = _fields(AspiderSettings)
    assert settings_fields - documented - MOVING_OUT == SECRETS
    assert "ASPIDER_XNAT__PASSWORD" in EXAMPLE.read_text()
    assert documented - settings_fields == NOT_YET_SETTINGS  # drop an entry once it is real
    for section, key in NOT_YET_SETTINGS:
        del data[section][key]
    trimmed = tmp_path / "settings.yaml"
    trimmed.write_text(yaml.safe_dump(data))
    loaded = load_settings(trimmed)
    assert loaded.cluster.host == "login.cluster.example.org"


def test_init_example_prints_the_reference(tmp_path: Path) -> None:
    """`aspider init --example` prints examples/settings.yaml as it is."""
    result = run_aspider(["init", "--example"], clean_env(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == EXAMPLE.read_text().strip()
