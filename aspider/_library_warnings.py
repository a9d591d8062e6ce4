"""
Warnings raised by the libraries aspider uses, kept off the user's terminal and out of the JSON log.

A library's warning is news for whoever upgrades that library, not for an operator: printed, it
reads as trouble in aspider and, with `--log-format json`, it is a line that is not JSON. Each
warning quieted here is named narrowly (its category and the module that raises it) with the
reason, goes to the debug log once, and every other warning is shown as before. The upgrade
check (`make test-latest`, docs/development.md) is where new ones are found.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

_log = logging.getLogger("aspider.warnings")


@dataclass(frozen=True)
class QuietedWarning:
    """One library warning that never reaches the terminal: who raises it, which kind, and why."""

    category: str  # "module:Class"
    package: str  # the top-level package whose code raises it
    reason: str


QUIETED = (
    QuietedWarning(
        category="cryptography.utils:CryptographyDeprecationWarning",
        package="asyncssh",
        reason=(
            "asyncssh names cryptography's DSA types when it is imported; cryptography 51 "
            "deprecates DSA. aspider offers no DSA keys; asyncssh drops DSA on its own schedule."
        ),
    ),
)

_held: list[str] = []  # seen before logging was set up; logged at the first flush
_logged: set[tuple[str, str, str]] = set()


def quiet_library_warnings() -> None:
    """
    Route the warnings in `QUIETED` to the debug log; safe to call again (after logging setup).

    The filter is put first, so even `-W error` or PYTHONWARNINGS cannot turn these into a crash
    or a line on stderr, and everything else keeps the filters it had.
    """
    for quieted in QUIETED:
        category = _category(quieted)
        if category is not None:
            module = rf"{quieted.package}(\.|$)"
            warnings.filterwarnings("default", category=category, module=module)
    if not getattr(warnings.showwarning, "_aspider_hook", False):
        warnings.showwarning = _hook(warnings.showwarning)


def flush_to_log() -> None:
    """Log at debug, once each, the quieted warnings seen before logging was ready."""
    while _held:
        _log.debug("%s", _held.pop(0))


def _hook(shown_before: _ShowWarning) -> _ShowWarning:
    roots = {q.package: _package_dir(q.package) for q in QUIETED}

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        quieted = _match(category, filename, roots)
        if quieted is None:
            shown_before(message, category, filename, lineno, file, line)
            return
        key = (quieted.package, category.__name__, str(message))
        if key not in _logged:
            _logged.add(key)
            name = category.__name__
            _held.append(f"{name} from {quieted.package}: {message} (quieted: {quieted.reason})")
            if logging.getLogger().handlers:
                flush_to_log()

    show._aspider_hook = True  # type: ignore[attr-defined]
    return show


def _match(
    category: type[Warning], filename: str, roots: dict[str, str | None]
) -> QuietedWarning | None:
    for quieted in QUIETED:
        root = roots[quieted.package]
        wanted = _category(quieted)
        if wanted and issubclass(category, wanted) and root and filename.startswith(root):
            return quieted
    return None


def _category(quieted: QuietedWarning) -> type[Warning] | None:
    module, _, name = quieted.category.partition(":")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):  # that library is not installed: nothing to quiet
        return None
    return found if isinstance(found, type) and issubclass(found, Warning) else None


def _package_dir(package: str) -> str | None:
    """Where a package's files are, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(next(iter(spec.submodule_search_locations))).resolve()) + "/"


class _ShowWarning(Protocol):
    def __call__(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None: ...
