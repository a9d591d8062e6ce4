"""
`aspider` as a person runs it: a process, with a terminal of 80 columns, against the
XNAT-compatible server over real TCP on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from anyio.from_thread import start_blocking_portal

from xnat_client.sandbox import XnatServer, serve_tcp

ASPIDER = str(Path(sys.executable).with_name("aspider"))
REPO = Path(__file__).resolve().parents[2]
DEMO_PROCESSORS = REPO / "aspider" / "demo" / "processors"


@contextmanager
def xnat_over_tcp(server: XnatServer) -> Iterator[str]:
    """The server on 127.0.0.1 (any free port) in a thread of its own; yields its URL."""
    with (
        start_blocking_portal("asyncio") as portal,
        portal.wrap_async_context_manager(serve_tcp(server)) as url,
    ):
        yield url


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """
    A user's environment: no ASPIDER_* of the test run, a home of its own, 80 columns, and
    the project's `aspider` first on PATH.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASPIDER_")}
    env.pop("CI", None)  # rich reads CI as "not a terminal, but colours"; keep it plain
    env.update({"HOME": str(home), "COLUMNS": "80", "LINES": "40", "NO_COLOR": "1", "TERM": "dumb"})
    env["PATH"] = f"{Path(ASPIDER).parent}:{env.get('PATH', '/usr/bin:/bin')}"  # as if activated
    env.update(extra)
    return env


def run_aspider(
    args: list[str],
    env: Mapping[str, str],
    cwd: Path,
    stdin: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`aspider ARGS` as a process; stdout and stderr kept apart."""
    return subprocess.run(
        [ASPIDER, *args],
        env=dict(env),
        cwd=cwd,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")


def plain(drawn: str) -> str:
    """What a terminal drew, without its control sequences (each one becomes a line break)."""
    return _ANSI.sub("\n", drawn)


def run_in_terminal(
    args: list[str], env: Mapping[str, str], cwd: Path, typed: bytes = b""
) -> tuple[int, str]:
    """
    `aspider ARGS` with stdin, stdout and stderr on a pseudo-terminal (COLUMNS and LINES from
    `env`); `typed` is what a person types once it has started. Returns (exit status, drawn).
    """
    master, slave = os.openpty()
    os.set_blocking(master, False)
    environment = {**env, "TERM": "xterm-256color"}
    environment.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [ASPIDER, *args], stdin=slave, stdout=slave, stderr=slave, env=environment, cwd=cwd
    )
    os.close(slave)
    if typed:
        os.write(master, typed)
    drawn = bytearray()
    deadline = time.monotonic() + 120  # hang guard
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                chunk = b""
            drawn += chunk
            if not chunk and process.poll() is not None:
                break
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(timeout=10), drawn.decode("utf-8", errors="replace")
