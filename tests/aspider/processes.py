"""
`aspider` as a person runs it: a process, with a terminal of 80 columns, against the
XNAT-compatible server over real TCP on 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from anyio.from_thread import start_blocking_portal

from xnat_client.server import XnatServer, serve_tcp

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
    """A user's environment: no ASPIDER_* of the test run, a home of its own, 80 columns."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASPIDER_")}
    env.pop("CI", None)  # rich reads CI as "not a terminal, but colours"; keep it plain
    env.update({"HOME": str(home), "COLUMNS": "80", "LINES": "40", "NO_COLOR": "1", "TERM": "dumb"})
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
