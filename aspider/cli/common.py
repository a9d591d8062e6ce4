"""What every command shares: settings, processors, output, and errors turned into exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from aspider._exceptions import ConfigError, ProcessorError, only_failure
from aspider.cli.logs import error_record, log_format
from aspider.processors import Processor, load_processors
from aspider.run.engine import NETWORK, Wiring
from aspider.settings import AspiderSettings, load_settings
from xnat_client import XnatError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

SETTINGS_OPTION = typer.Option(None, "--settings", help="Settings file (YAML).")
JSON_OPTION = typer.Option(False, "--json", help="Machine-readable output.")

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """
    Say what went wrong (one line, naming the fix) and return the `Exit` to raise.

    With `--log-format json` the line is a JSON record, like every other line on stderr.
    """
    if log_format() == "json":
        error_record(message, code)
    else:
        errors.print(f"[red]error:[/red] {escape(message)}", highlight=False, markup=True)
    return typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Configuration and processor problems exit 2; XNAT failures exit 1; both with a message."""
    try:
        yield
    except Exception as exc:
        usage = only_failure(exc, (ConfigError, ProcessorError))
        if usage is not None:
            raise fail(str(usage), EXIT_USAGE) from exc
        xnat = only_failure(exc, XnatError)
        if xnat is not None:
            raise fail(f"XNAT: {xnat}", EXIT_FAILED) from exc
        raise


def wiring_of(ctx: typer.Context) -> Wiring:
    """
    How the command reaches XNAT: over the network, unless whoever invoked the app passed a
    `Wiring` as the context object (the tests: `CliRunner().invoke(app, args, obj=wiring)`).
    """
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Wiring) else NETWORK


def settings_from(path: Path | None, overrides: dict[str, Any] | None = None) -> AspiderSettings:
    return load_settings(path, overrides)


def processors_from(
    settings: AspiderSettings, paths: Sequence[str] = (), only: Sequence[str] = ()
) -> list[Processor]:
    """The configured processors (or `paths`), narrowed to `only` proctypes/names if given."""
    sources = list(paths) or [str(p) for p in settings.processor_paths]
    if not sources and not settings.processor_classes:
        raise ConfigError(
            "no processors: pass paths, or set processor_paths in the settings "
            "(ASPIDER_PROCESSOR_PATHS='[\"/etc/aspider/processors\"]')"
        )
    loaded = load_processors(sources, [] if paths else settings.processor_classes)
    if not only:
        return loaded
    chosen = [p for p in loaded if p.proctype in only or p.proctype.rsplit("_v", 1)[0] in only]
    if not chosen:
        known = ", ".join(p.proctype for p in loaded)
        raise ConfigError(f"no processor named {', '.join(only)}; loaded: {known}")
    return chosen


def print_json(data: Any, write: Callable[[str], Any] | None = None) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    (write or sys.stdout.write)(text)
