"""
The nightly container without a Docker engine: the Dockerfile and the scripts linted (hadolint,
shellcheck), the build context, the image's install steps in a clean virtual environment, the
entrypoint's wiring of mounted secrets, and the local executor waiting for its jobs in the
image. Building and running the image itself needs a daemon: tests/container/image-smoke.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.aspider.processes import DEMO_PROCESSORS, clean_env, run_aspider, xnat_over_tcp
from xnat_client.sandbox import XnatServer, generate_project

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "docker" / "entrypoint.sh"


def _dockerfile_pip_installs() -> list[str]:
    """The arguments of each `pip install` in the Dockerfile, in order."""
    text = (REPO / "Dockerfile").read_text()
    return re.findall(r"pip install (.+?)\s*$", text, re.MULTILINE)


_LIST_DEMO_PROCESSORS = (
    "from aspider.demo import DEMO_PROCESSORS as folder; "
    "print(sorted(p.name for p in folder.glob('*.yaml')))"
)


def test_dockerfile_installs_the_project_as_a_non_root_user() -> None:
    """The image installs the runtime lock by hash, then the project alone, runs unprivileged."""
    text = (REPO / "Dockerfile").read_text()
    assert _dockerfile_pip_installs() == [
        "--no-cache-dir --require-hashes -r requirements/runtime.txt",
        "--no-cache-dir --no-deps --no-build-isolation .",
    ]
    assert re.search(r"^USER 10001$", text, re.MULTILINE)  # numeric, as hadolint asks
    assert 'ENTRYPOINT ["aspider-entrypoint"]' in text
    assert "ASPIDER_SETTINGS=/etc/aspider/settings.yaml" in text


def test_the_wheel_carries_the_demo_and_the_examples_and_installs(tmp_path: Path) -> None:
    """`pip wheel .` holds the demo's processors and examples/; installed, `aspider` works."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("aspider_xnat-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "aspider/examples/settings.yaml" in names
    assert "aspider/examples/processors/freesurfer_v7.2.0.yaml" in names
    assert "aspider/demo/processors/imgstats_v1.0.0.yaml" in names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--no-cache-dir", "-q", str(wheel)],
        check=True,
        cwd=tmp_path,
    )
    shown = subprocess.run(
        [str(venv / "bin" / "aspider"), "--help"], capture_output=True, text=True, check=True
    )
    for command in ("init", "run", "status", "rerun", "demo", "sandbox", "explain", "processors"):
        assert command in shown.stdout
    example = subprocess.run(
        [str(venv / "bin" / "aspider"), "init", "--example"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert example.stdout.strip() == (REPO / "examples" / "settings.yaml").read_text().strip()
    data = subprocess.run(
        [str(venv / "bin" / "python"), "-c", _LIST_DEMO_PROCESSORS],
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
    mine = tmp_path / "mine"
    mine.write_text("y")
    env = {
        "PATH": f"{fake_aspider}:{os.environ['PATH']}",
        "ASPIDER_SECRETS_DIR": str(secrets),
        "ASPIDER_CLUSTER__KEY_PATH": str(mine),
    }
    out = subprocess.run(
        ["sh", str(ENTRYPOINT), "status", "P1"], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert f"ASPIDER_CLUSTER__KEY_PATH={mine}" in out
    assert "ASPIDER_XNAT__PASSWORD_FILE" not in out


def _tool(name: str) -> str:
    """A lint tool `make lint` installs (hadolint in .venv, shellcheck from Debian)."""
    found = shutil.which(name, path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    if found is None:
        reason = f"{name} is not installed: `make lint` installs it"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def test_hadolint_passes_the_dockerfile() -> None:
    """The Dockerfile has no hadolint finding (numeric USER, no root at run time, ...)."""
    result = subprocess.run(
        [_tool("hadolint"), str(REPO / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_passes_the_container_scripts() -> None:
    """The entrypoint and the image smoke test have no shellcheck finding."""
    scripts = [ENTRYPOINT, REPO / "tests" / "container" / "image-smoke"]
    result = subprocess.run(
        [_tool("shellcheck"), *map(str, scripts)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory another uid can enter (pytest's tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="aspider-entrypoint-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def _as_image_user(argv: list[str]) -> list[str]:
    """Run as uid 10001, the image's user: root reads any file, so the test must not be root."""
    if os.getuid() != 0:
        return argv
    return ["setpriv", "--reuid=10001", "--regid=10001", "--clear-groups", *argv]


def test_an_unreadable_mounted_secret_is_named_with_the_uid(shared_dir: Path) -> None:
    """A root-owned 0600 secret: exit 2 naming the file, its mode and owner, and uid 10001."""
    secrets = shared_dir / "secrets"
    secrets.mkdir(mode=0o755)
    secret = secrets / "xnat_password"
    secret.write_text("pw")
    secret.chmod(0o600 if os.getuid() == 0 else 0o000)
    bindir = shared_dir / "bin"
    bindir.mkdir(mode=0o755)
    (bindir / "aspider").write_text('#!/bin/sh\necho "aspider ran"\n')
    (bindir / "aspider").chmod(0o755)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "ASPIDER_SECRETS_DIR": str(secrets)}
    result = subprocess.run(
        _as_image_user(["sh", str(ENTRYPOINT), "run", "--all"]),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert "aspider ran" not in result.stdout
    uid = 10001 if os.getuid() == 0 else os.getuid()
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"aspider-entrypoint: cannot read {secret} (mode ")
    assert f"this image runs as uid {uid}" in line
    assert f"chown {uid} FILE" in line


def test_an_explicit_secret_path_that_is_missing_is_named(
    tmp_path: Path, fake_aspider: Path
) -> None:
    """ASPIDER_XNAT__PASSWORD_FILE naming no file: exit 2 before aspider starts."""
    env = {
        "PATH": f"{fake_aspider}:{os.environ['PATH']}",
        "ASPIDER_SECRETS_DIR": str(tmp_path / "none"),
        "ASPIDER_XNAT__PASSWORD_FILE": str(tmp_path / "gone"),
    }
    argv = ["sh", str(ENTRYPOINT)]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 2
    assert f"ASPIDER_XNAT__PASSWORD_FILE names {tmp_path / 'gone'}" in result.stderr


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves `path` out of the build context (last match wins)."""
    parts = path.split("/")
    excluded = False
    for raw in patterns:
        negated, pattern = raw.startswith("!"), raw.lstrip("!")
        if pattern.startswith("**/"):
            hit = any(fnmatch.fnmatch(part, pattern[3:]) for part in parts)
        else:
            prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
            hit = any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes)
        if hit:
            excluded = not negated
    return excluded


def test_the_build_context_holds_what_the_image_needs_and_little_else() -> None:
    """No .venv, .git or .cluster (sockets); every COPY source is in; under 10 MB."""
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for heavy in (".venv/bin/python", ".git/HEAD", ".cluster/profile.json", "tests/conftest.py"):
        assert _ignored(heavy, patterns), heavy
    copied = re.findall(
        r"^COPY (?!--from)(.+) \S+$", (REPO / "Dockerfile").read_text(), re.MULTILINE
    )
    for sources in copied:
        for source in sources.split():
            assert not _ignored(source, patterns), source
    size = 0
    for path in REPO.rglob("*"):
        relative = path.relative_to(REPO).as_posix()
        if path.is_file() and not _ignored(relative, patterns):
            size += path.stat().st_size
    assert size < 10 * 2**20


def test_in_the_image_the_local_executor_waits_for_its_jobs(tmp_path: Path) -> None:
    """ASPIDER_IMAGE set (as the Dockerfile does): `run` without --wait ends with all COMPLETE."""
    server = XnatServer()
    generate_project(server, "P1", sessions=2, assessors_per_session=0, seed=6)
    with xnat_over_tcp(server) as url:
        env = clean_env(
            tmp_path,
            ASPIDER_IMAGE="1",
            ASPIDER_XNAT__URL=url,
            ASPIDER_XNAT__USER="admin",
            ASPIDER_XNAT__PASSWORD="admin",
            ASPIDER_PROCESSOR_PATHS=json.dumps([str(DEMO_PROCESSORS)]),
            ASPIDER_CLUSTER__WORK_ROOT=str(tmp_path / "work"),
        )
        argv = ["run", "P1", "--interval", "0.2", "--log-format", "json"]  # no --wait
        result = run_aspider(argv, env, tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    done = {p: c["completed"] for p, c in json.loads(line)["summary"]["by_processor"].items()}
    assert done == {"imgstats_v1": 2, "sessreport_v1": 2}
    assert "local executor in a container: waiting" in result.stderr
