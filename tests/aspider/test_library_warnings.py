"""
A library's warning never reaches the terminal, a JSON log or a notebook: the ones
`_library_warnings` names go to the debug log once, and every other warning is shown as before.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import warnings
from pathlib import Path

import asyncssh
import pytest
from cryptography.utils import CryptographyDeprecationWarning

from aspider import _library_warnings as library_warnings
from tests.aspider.processes import ASPIDER, clean_env

ASYNCSSH_FILE = str(Path(asyncssh.__file__).resolve().parent / "crypto" / "misc.py")


def test_version_prints_one_line_and_nothing_else(tmp_path: Path) -> None:
    """`aspider --version`: one line on stdout, stderr empty (asyncssh's DSA warning quieted)."""
    result = subprocess.run(
        [ASPIDER, "--version"],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.count("\n") == 1
    assert result.stderr == ""


def test_even_warnings_as_errors_do_not_break_the_command(tmp_path: Path) -> None:
    """Under `-W error` the quieted warning neither crashes the import nor prints."""
    code = "import sys; sys.argv = ['aspider', '--version']; from aspider.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_the_python_api_imports_without_a_library_s_warning(tmp_path: Path) -> None:
    """A notebook's `from aspider.sync import Spider` shows no asyncssh DSA warning either."""
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", "from aspider.sync import Spider"],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_a_quieted_warning_is_logged_once_at_debug(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raised twice from asyncssh's files: not shown, one debug record with its reason."""
    monkeypatch.setattr(library_warnings, "_logged", set())  # as in a new process
    shown: list[str] = []
    with warnings.catch_warnings():
        warnings.showwarning = lambda message, *_args, **_kw: shown.append(str(message))
        library_warnings.quiet_library_warnings()
        with caplog.at_level(logging.DEBUG, logger="aspider.warnings"):
            for _ in range(2):
                warnings.warn_explicit(
                    "DSA is deprecated",
                    CryptographyDeprecationWarning,
                    ASYNCSSH_FILE,
                    32,
                    module="asyncssh.crypto.misc",
                )
            library_warnings.flush_to_log()
    assert shown == []
    records = [r.getMessage() for r in caplog.records if r.name == "aspider.warnings"]
    assert len(records) == 1
    assert "DSA is deprecated" in records[0]
    assert "asyncssh" in records[0]


def test_other_warnings_are_shown_as_before() -> None:
    """The same category from our own code, or another category from asyncssh, still shows."""
    shown: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *_args, **_kw: shown.append(str(message))
        library_warnings.quiet_library_warnings()
        warnings.warn_explicit(
            "ours", CryptographyDeprecationWarning, __file__, 1, module="tests.aspider"
        )
        warnings.warn_explicit(
            "theirs", UserWarning, ASYNCSSH_FILE, 1, module="asyncssh.crypto.misc"
        )
    assert shown == ["ours", "theirs"]
