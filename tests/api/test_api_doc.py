"""
docs/api.md's worked example runs as written, sync and async, against the sandbox over HTTP;
and the sync face works from inside a running event loop, as in Jupyter.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from tests.aspider.processes import REPO, clean_env, run_aspider

DOC = REPO / "docs" / "api.md"


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(), re.DOTALL)


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


@pytest.fixture
def sandbox_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The doc's terminal steps: the sandbox on a free port, and `aspider init` in a folder."""
    port = _free_port()
    sandbox, init = (
        line.split("&")[0].replace("8080", port) for line in _blocks("sh")[0].splitlines()
    )
    env = clean_env(tmp_path)
    with subprocess.Popen(
        shlex.split(sandbox), env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stdout is not None
            assert "XNAT sandbox at" in server.stdout.readline()
            made = run_aspider(shlex.split(init)[1:], env, tmp_path)
            assert made.returncode == 0, made.stderr
            for name in [k for k in os.environ if k.startswith("ASPIDER_")]:
                monkeypatch.delenv(name)
            monkeypatch.chdir(tmp_path)
            yield tmp_path
        finally:
            server.terminate()


def test_the_worked_example_runs_sync_then_async(sandbox_folder: Path) -> None:
    """The notebook's cells, then the async program: loops B and C run, everything COMPLETE."""
    sync_cells, async_program = _blocks("python")[2:4]
    exec(compile(sync_cells, "docs/api.md (sync)", "exec"), {})  # noqa: S102
    exec(compile(async_program, "docs/api.md (async)", "exec"), {})  # noqa: S102


def test_a_python_processor_object_is_tried_as_given(sandbox_folder: Path) -> None:
    """The doc's FirstVisitOnly: tasks only on first sessions, its match hook decided."""
    processor_example = _blocks("python")[1]
    exec(compile(processor_example, "docs/api.md (processor)", "exec"), {})  # noqa: S102


def test_the_sync_face_works_inside_a_running_event_loop(sandbox_folder: Path) -> None:
    """Called from a coroutine (Jupyter's case), the blocking spider answers."""
    from aspider.sync import Spider

    async def in_a_loop() -> int:
        with Spider.from_settings(xnat={"password": "admin"}) as spider:
            return len(spider.tasks("DEMO"))

    assert anyio.run(in_a_loop) > 0
