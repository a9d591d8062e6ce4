"""The public API type-checks for users: mypy --strict on a script that imports only aspider."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("user_script.py")


def test_a_users_script_passes_mypy_strict() -> None:
    """tests/api/user_script.py uses Spider, the sync face and the views with no error."""
    found = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(SCRIPT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 0, found.stdout + found.stderr
    assert "Success" in found.stdout


def test_the_script_imports_nothing_but_the_public_api() -> None:
    """Its imports are `aspider` and `aspider.sync` (and a library): no engine module."""
    imports = [
        line.split()[1]
        for line in SCRIPT.read_text().splitlines()
        if line.startswith(("import ", "from "))
    ]
    assert {name for name in imports if name.startswith("aspider")} == {"aspider", "aspider.sync"}
