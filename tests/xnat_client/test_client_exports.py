"""The public surface of xnat_client stays honest."""

from __future__ import annotations

import xnat_client


def test_every_exported_name_exists_and_nothing_private_leaks() -> None:
    """Each name in __all__ is importable, public, and documented where it is a class."""
    for name in xnat_client.__all__:
        assert hasattr(xnat_client, name), name
        assert not name.startswith("_") or name == "__version__", name
    assert len(set(xnat_client.__all__)) == len(xnat_client.__all__)


def test_public_objects_are_all_exported() -> None:
    """Every public object defined by the package's private modules is in __all__."""
    public = {
        name
        for name, value in vars(xnat_client).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("xnat_client.")
        and not isinstance(value, type(xnat_client))
    }
    assert public <= set(xnat_client.__all__)


def test_server_is_not_imported_by_the_client_package() -> None:
    """Importing the client does not import the sandbox subpackage (kept for tests and demo)."""
    import subprocess
    import sys

    code = "import sys, xnat_client; print('xnat_client.sandbox' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
