"""The public surface of `pbs` is exactly its `__all__`, and it stays independent."""

from __future__ import annotations

import subprocess
import sys

import pbs
import pbs.local
import pbs.slurm
import pbs.ssh


def test_all_names_exist_and_are_public() -> None:
    """Every name in __all__ is importable, and no private module leaks into it."""
    for name in pbs.__all__:
        assert hasattr(pbs, name), name
        assert not name.startswith("_"), name
    assert len(set(pbs.__all__)) == len(pbs.__all__)


def test_public_objects_are_re_exported_from_private_modules() -> None:
    """Classes and functions live in private `_x` modules (of pbs or a subpackage), re-exported."""
    for package in (pbs, pbs.local, pbs.slurm, pbs.ssh):
        for name in package.__all__:
            module = getattr(getattr(package, name), "__module__", None)
            if module is not None and module.startswith("pbs"):
                assert module.split(".")[-1].startswith("_"), (name, module)
                assert name in pbs.__all__, name  # every subpackage's name is pbs's too


def test_pbs_imports_neither_aspider_nor_xnat_client() -> None:
    """Importing pbs loads neither aspider nor xnat_client (a library on its own)."""
    code = (
        "import sys, pbs; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aspider', 'xnat_client')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
