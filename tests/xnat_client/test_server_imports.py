"""The server stands beside the client: it imports none of the client's private modules."""

from __future__ import annotations

import ast
from pathlib import Path

import xnat_client.sandbox

SERVER = Path(xnat_client.sandbox.__file__).parent


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_server_imports_no_private_client_module() -> None:
    """No server module imports `xnat_client._x`: the server needs only its own machinery."""
    offending = {
        f"{path.name}: {name}"
        for path in SERVER.glob("*.py")
        for name in _imported(path)
        if name.startswith("xnat_client.") and not name.startswith("xnat_client.sandbox")
    }
    assert offending == set()
