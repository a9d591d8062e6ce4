"""
Writes the lock files in requirements/ from pyproject.toml: `make lock` runs it.

Every venv of the project (the demo's, the tests', the container's) installs one of these files
with `pip install --require-hashes`, so a fresh clone installs exactly what the suite last passed
with, whatever was released upstream since. One resolution makes all three: `test.txt` (every
extra) is resolved first and the smaller files are resolved under it as constraints, so a package
has the same version in each.

Each file starts with a digest of what it was made from (the dependency tables of pyproject.toml
and requirements/build.in); `tests/aspider/test_lock.py` recomputes it, so a change to the
dependencies that is not followed by `make lock` fails the suite.

Run with the lock venv's python (`make lock`), which has uv; `--upgrade` moves every pin to the
newest release pyproject allows (`make lock UPGRADE=1`), otherwise pins already in a file stay.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
DIGEST_PREFIX = "# pyproject-digest: "

# file -> the extras it holds; the first is the superset the others are resolved under.
LOCKS: dict[str, tuple[str, ...]] = {
    "test.txt": ("sandbox", "test", "lint"),
    "demo.txt": ("sandbox",),
    "runtime.txt": (),
}


def pyproject_digest(root: Path = ROOT) -> str:
    """
    The digest of every input a lock is made from, so a changed input is seen without a network.
    """
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    inputs = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "build.in": (root / "requirements" / "build.in").read_text(),
    }
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _compile(name: str, extras: tuple[str, ...], upgrade: bool) -> None:
    out = REQUIREMENTS / name
    argv = [
        str(Path(sys.executable).parent / "uv"),
        "pip",
        "compile",
        "pyproject.toml",
        "requirements/build.in",
        *(f"--extra={extra}" for extra in extras),
        "--generate-hashes",
        "--universal",
        "--python-version=3.11",
        "--no-header",
        "--quiet",
        f"--output-file=requirements/{name}",
    ]
    if name != "test.txt":
        argv.append("--constraint=requirements/test.txt")
    if upgrade:
        argv.append("--upgrade")
    before = out.read_text() if out.exists() else ""
    stamp = out.stat() if before else None
    if before:  # uv keeps the pins it finds in the output file
        out.write_text(_without_header(before))
    subprocess.run(argv, cwd=ROOT, check=True)
    header = (
        f"{DIGEST_PREFIX}{pyproject_digest()}\n"
        f"# extras: {', '.join(extras) or '(none)'}. Made by `make lock` (tools/lock.py); "
        "do not edit.\n"
    )
    after = header + _without_header(out.read_text())
    out.write_text(after)
    if stamp is not None and after == before:  # untouched, so `make` keeps the venv built on it
        os.utime(out, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    print(f"requirements/{name}: {'unchanged' if after == before else 'updated'}")


def _without_header(text: str) -> str:
    ours = ("# pyproject-", "# extras: ")
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(ours))


def main() -> None:
    upgrade = "--upgrade" in sys.argv[1:]
    for name, extras in LOCKS.items():
        _compile(name, extras, upgrade)


if __name__ == "__main__":
    main()
