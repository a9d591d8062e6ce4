"""
The lock files in requirements/ agree with pyproject.toml: made from the same dependencies (the
digest `make lock` writes), every dependency pinned within its range and hashed, and one version
of each package across the three files.
"""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.aspider.processes import REPO

PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)(?: ; (?P<marker>[^\\]+?))? \\$")


def _lock_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_tool", REPO / "tools" / "lock.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LOCK = _lock_tool()
LOCKS: dict[str, tuple[str, ...]] = LOCK.LOCKS


def _pins(name: str) -> dict[str, Version]:
    """The packages a lock file installs here (Python 3.11 on this machine), by name."""
    environment = {
        **default_environment(),
        "python_full_version": "3.11.0",
        "python_version": "3.11",
    }
    pins: dict[str, Version] = {}
    for line in (REPO / "requirements" / name).read_text().splitlines():
        found = PIN.match(line)
        if found is None:
            continue
        marker = found["marker"]
        if marker and not Requirement(f"x ; {marker}").marker.evaluate(environment):  # type: ignore[union-attr]
            continue
        pins[canonicalize_name(found["name"])] = Version(found["version"])
    return pins


def _direct(extras: tuple[str, ...]) -> list[Requirement]:
    """pyproject's requirements for the runtime and these extras (self-references left out)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"]]
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    build = (REPO / "requirements" / "build.in").read_text().splitlines()
    wanted += [line.split("#", 1)[0] for line in build if line.split("#", 1)[0].strip()]
    requirements = [Requirement(text) for text in wanted]
    return [r for r in requirements if canonicalize_name(r.name) != project["name"]]


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_a_lock_was_made_from_the_dependencies_pyproject_has_now(name: str) -> None:
    """The digest line matches pyproject.toml; if not, run `make lock` and commit the result."""
    first = (REPO / "requirements" / name).read_text().splitlines()[0]
    assert first == f"{LOCK.DIGEST_PREFIX}{LOCK.pyproject_digest(REPO)}"


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_every_dependency_is_pinned_within_its_range(name: str) -> None:
    """Each requirement of the file's extras has a pin, and pyproject's range admits it."""
    pins = _pins(name)
    outside = {
        str(requirement): pins.get(canonicalize_name(requirement.name))
        for requirement in _direct(LOCKS[name])
        if pins.get(canonicalize_name(requirement.name)) not in requirement.specifier
    }
    assert outside == {}


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_every_pin_is_hashed(name: str) -> None:
    """pip's --require-hashes needs a hash under each pin: a line without one fails the install."""
    lines = (REPO / "requirements" / name).read_text().splitlines()
    unhashed = [
        line
        for line, following in zip(lines, [*lines[1:], ""], strict=True)
        if PIN.match(line) and not following.strip().startswith("--hash=sha256:")
    ]
    assert unhashed == []


def test_one_version_of_each_package_across_the_locks() -> None:
    """The demo's, the image's and the tests' venvs hold the same release of what they share."""
    everything = _pins("test.txt")
    differing = {
        (name, package): (str(version), str(everything.get(package)))
        for name in LOCKS
        for package, version in _pins(name).items()
        if everything.get(package) != version
    }
    assert differing == {}


def test_the_smaller_locks_hold_no_test_tools() -> None:
    """The demo and the image install no test or lint tool (a lean user install)."""
    # h11 is a test requirement too, but uvicorn needs it at run time
    runtime = {canonicalize_name(r.name) for r in _direct(("sandbox",))} | {"h11"}
    tools = {canonicalize_name(r.name) for r in _direct(("test", "lint"))} - runtime
    assert {"pytest", "playwright", "pandas", "mypy"} <= tools <= _pins("test.txt").keys()
    assert tools & (_pins("demo.txt").keys() | _pins("runtime.txt").keys()) == set()


def test_the_lock_tool_itself_is_pinned_and_hashed() -> None:
    """`make lock` installs uv from requirements/lock-tool.txt with --require-hashes."""
    text = (REPO / "requirements" / "lock-tool.txt").read_text()
    assert re.search(r"^uv==\S+ \\$", text, re.MULTILINE)
    assert "--hash=sha256:" in text


def test_the_digest_sees_a_changed_dependency(tmp_path: Path) -> None:
    """A range moved in pyproject.toml changes the digest, so the test above would catch it."""
    (tmp_path / "requirements").mkdir()
    build = (REPO / "requirements" / "build.in").read_text()
    (tmp_path / "requirements" / "build.in").write_text(build)
    pyproject = (REPO / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(pyproject)
    same = LOCK.pyproject_digest(tmp_path)
    (tmp_path / "pyproject.toml").write_text(pyproject.replace('"anyio>=4.3"', '"anyio>=4.4"'))
    assert same == LOCK.pyproject_digest(REPO)
    assert LOCK.pyproject_digest(tmp_path) != same
