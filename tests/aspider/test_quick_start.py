"""
The README's quick start as a new user types it: in a clean copy of the checkout, with no venv
and no aspider on PATH, `make demo` builds its venv from the lock and runs the demo, and the next
steps it prints, pasted into the same shell, end with every task COMPLETE.

`make test`, the quick start's other command, is the run this test is part of.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

from tests.aspider.processes import REPO

README = REPO / "README.md"


def _quick_start() -> list[str]:
    """The commands of the README's quick start block, comments dropped."""
    section = README.read_text().split("## Quick start", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def _pasted_lines(demo_output: str) -> str:
    """What a user copies: the indented lines after "Paste these lines", as printed."""
    lines = demo_output.splitlines()
    start = next(i for i, line in enumerate(lines) if "Paste these lines" in line)
    after = itertools.dropwhile(lambda line: not line.startswith("  "), lines[start:])
    pasted = itertools.takewhile(lambda line: line.startswith("  "), after)
    return "\n".join(line[2:] for line in pasted)


def _copy_checkout(target: Path) -> None:
    """The files a fresh clone has (tracked, or new and not ignored): no venv, no caches."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _new_user_env(home: Path) -> dict[str, str]:
    """A login shell's environment: no venv active, no ASPIDER_*, a home of its own."""
    venv_bin = str(Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin")
    path = ":".join(p for p in os.environ.get("PATH", "/usr/bin:/bin").split(":") if p != venv_bin)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ASPIDER_")
        and k not in {"VIRTUAL_ENV", "CI", "PYTHONPATH", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}
    }
    cache = os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    env.update({"HOME": str(home), "PATH": path, "PIP_CACHE_DIR": cache})  # the cache: speed only
    env.update({"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"})
    return env


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def test_the_quick_start_and_the_demo_s_next_steps_work_as_typed(tmp_path: Path) -> None:
    """make demo in a clean copy, then its printed next steps pasted into the same shell."""
    assert _quick_start() == ["make demo", "make test"]
    checkout, home = tmp_path / "checkout", tmp_path / "home"
    home.mkdir()
    _copy_checkout(checkout)
    env = _new_user_env(home)
    assert shutil.which("aspider", path=env["PATH"]) is None  # nothing installed beforehand

    demo = subprocess.run(
        ["bash", "-c", "make demo"],
        check=False,
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "REPORT of" in demo.stdout  # a report, downloaded from XNAT once its task was COMPLETE
    pasted = _pasted_lines(demo.stdout)
    assert "source " in pasted  # aspider is not on PATH after `make demo`: the hint says so

    script = re.sub(r"\b8080\b", _free_port(), pasted)
    followed = subprocess.run(
        ["bash", "-e", "-c", script],
        check=False,
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert followed.returncode == 0, followed.stdout[-3000:] + followed.stderr[-3000:]
    assert "imgstats_v1" in followed.stdout
    assert "sessreport_v1" in followed.stdout
    assert not (checkout / "aspider.yaml").exists()  # the hint's own folder, not the checkout
