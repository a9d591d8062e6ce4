"""The import direction of the architecture: pbs and xnat_client stand alone."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("pbs", ("aspider", "xnat_client")),
        ("xnat_client", ("aspider", "pbs")),
        ("xnat_client.server", ("aspider", "pbs")),
    ],
)
def test_library_packages_never_import_the_engine_or_each_other(
    package: str, forbidden: tuple[str, ...]
) -> None:
    """Importing a library package loads none of the packages it must not depend on."""
    code = (
        f"import sys, {package}; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({forbidden!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
