"""
The nightly container without a Docker engine: the image's install steps in a clean virtual
environment, and the entrypoint's wiring of mounted secrets.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "docker" / "entrypoint.sh"


def _dockerfile_pip_targets() -> list[str]:
    text = (REPO / "Dockerfile").read_text()
    return re.findall(r"pip install --no-cache-dir (\S+)\s*$", text, re.MULTILINE)


_LIST_DEMO_PROCESSORS = (
    "from aspider.demo import DEMO_PROCESSORS as folder; "
    "print(sorted(p.name for p in folder.glob('*.yaml')))"
)


def test_dockerfile_installs_the_project_as_a_non_root_user() -> None:
    """The image installs the project itself, runs as an unprivileged user, enters aspider."""
    text = (REPO / "Dockerfile").read_text()
    assert _dockerfile_pip_targets()[-1] == "."
    assert re.search(r"^USER aspider$", text, re.MULTILINE)
    assert 'ENTRYPOINT ["aspider-entrypoint"]' in text
    assert "ASPIDER_SETTINGS=/etc/aspider/settings.yaml" in text


def test_install_steps_in_a_clean_venv_give_a_working_aspider(tmp_path: Path) -> None:
    """`pip install .` (the image's step) into a fresh venv yields a runnable `aspider`."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--no-cache-dir", "-q", str(REPO)],
        check=True,
        cwd=tmp_path,
    )
    shown = subprocess.run(
        [str(venv / "bin" / "aspider"), "--help"], capture_output=True, text=True, check=True
    )
    for command in ("run", "status", "rerun", "demo", "sandbox", "explain", "processors"):
        assert command in shown.stdout
    data = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            _LIST_DEMO_PROCESSORS,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "imgstats_v1.0.0.yaml" in data.stdout


@pytest.fixture
def fake_aspider(tmp_path: Path) -> Path:
    """An `aspider` that prints its arguments and the ASPIDER_ variables it was given."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "aspider"
    script.write_text('#!/bin/sh\necho "args: $*"\nenv | grep ^ASPIDER_ | sort\n')
    script.chmod(0o755)
    return bindir


def test_entrypoint_wires_mounted_secrets_by_path_never_by_value(
    tmp_path: Path, fake_aspider: Path
) -> None:
    """Mounted secrets become file paths in the settings environment; their content never."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "xnat_password").write_text("s3cret-pw")
    (secrets / "ssh_key").write_text("PRIVATE KEY")
    (secrets / "known_hosts").write_text("host ssh-ed25519 AAAA")
    (secrets / "serve_token").write_text("t0ken-for-posts-0123456789")
    env = {
        "PATH": f"{fake_aspider}:{os.environ['PATH']}",
        "ASPIDER_SECRETS_DIR": str(secrets),
    }
    out = subprocess.run(
        ["sh", str(ENTRYPOINT), "run", "--all"], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert "args: run --all" in out
    assert f"ASPIDER_SERVE__TOKEN_FILE={secrets / 'serve_token'}" in out
    assert "t0ken-for-posts" not in out
    assert f"ASPIDER_XNAT__PASSWORD_FILE={secrets / 'xnat_password'}" in out
    assert f"ASPIDER_CLUSTER__KEY_PATH={secrets / 'ssh_key'}" in out
    assert f"ASPIDER_CLUSTER__KNOWN_HOSTS={secrets / 'known_hosts'}" in out
    assert "s3cret-pw" not in out
    assert "PRIVATE KEY" not in out


def test_entrypoint_keeps_explicit_settings(tmp_path: Path, fake_aspider: Path) -> None:
    """A variable set by the operator wins over the mounted-secret default."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "ssh_key").write_text("x")
    env = {
        "PATH": f"{fake_aspider}:{os.environ['PATH']}",
        "ASPIDER_SECRETS_DIR": str(secrets),
        "ASPIDER_CLUSTER__KEY_PATH": "/keys/mine",
    }
    out = subprocess.run(
        ["sh", str(ENTRYPOINT), "status", "P1"], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert "ASPIDER_CLUSTER__KEY_PATH=/keys/mine" in out
    assert "ASPIDER_XNAT__PASSWORD_FILE" not in out
