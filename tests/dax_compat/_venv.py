"""
DAX's own virtual environment: the one `tests/tools/client-venvs` makes for the conformance
suite (`.venvs/dax`, pinned in `tests/tools/client-requirements/dax.txt`), reused here so the
project keeps one DAX install, built by one script.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENVS_SCRIPT = REPO / "tests" / "tools" / "client-venvs"


def dax_python() -> Path:
    """The python of DAX's venv, made first if need be (a rerun with unchanged pins is quick)."""
    env = {**os.environ, "PYTHON": getattr(sys, "_base_executable", sys.executable)}
    done = subprocess.run(
        [str(VENVS_SCRIPT)], capture_output=True, text=True, env=env, timeout=900, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"tests/tools/client-venvs failed:\n{done.stderr[-4000:]}")
    found = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    return Path(found["dax"])


def dax_executable() -> Path:
    """DAX's `dax` command, beside that python."""
    return dax_python().with_name("dax")
