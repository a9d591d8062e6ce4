"""What every command shares: settings, processors, output, and errors turned into exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from aspider._exceptions import ConfigError, Issue, ProcessorError, only_failure
from aspider.cli.logs import error_record, log_format
from aspider.processors import (
    Processor,
    is_named,
    load_processors,
    load_processors_leniently,
)
from aspider.run import NETWORK, Wiring
from aspider.settings import AspiderSettings, load_settings
from pbs import HostKeyRejected, PbsError, SshFileUnreadable
from xnat_client import Unavailable, XnatError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C

SETTINGS_OPTION = typer.Option(
    None,
    "--settings",
    help="Settings file; default $ASPIDER_SETTINGS, ./aspider.yaml or "
    "~/.config/aspider/settings.yaml.",
)
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of tables.")
WIDE_OPTION = typer.Option(False, "--wide", help="Every column, however wide the terminal.")


# emoji=False: rich would turn `file.yaml:100:` into a 💯; aspider prints no emoji codes.
console = Console(soft_wrap=True, emoji=False)
# --wide: tables laid out as wide as their content, whatever the terminal (rich would otherwise
# never print wider than the terminal, folding or cutting cells to fit).
wide_console = Console(soft_wrap=True, width=10_000, emoji=False)
errors = Console(stderr=True, soft_wrap=True, emoji=False)


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """
    Say what went wrong (one line, naming the fix) and return the `Exit` to raise.

    A command asked for `--json` also prints a JSON document on stdout, `{"error", "exit"}`,
    so that whatever reads its output reads a document either way.
    """
    if _json_asked():
        print_json({"error": message, "exit": code})
    error_line(message, code)
    return typer.Exit(code)


def error_line(message: str, code: int = EXIT_USAGE) -> None:
    """
    An error on stderr, the command going on (a processor left out, say); `fail` to stop.

    With `--log-format json` the line is a JSON record, like every other line on stderr.
    """
    if log_format() == "json":
        error_record(message, code)
    else:
        for line in message.splitlines() or [""]:
            errors.print(f"[red]error:[/red] {escape(line)}", highlight=False, markup=True)


# Set while a command that was asked for `--json` runs (see `user_errors`).
_json_document: ContextVar[bool] = ContextVar("json_document", default=False)


def _json_asked() -> bool:
    return _json_document.get()


@contextmanager
def user_errors(as_json: bool = False) -> Iterator[None]:
    """
    Every error a person can act on, as one message and an exit status: configuration and
    processor problems, and cluster settings no retry can fix (an unknown host key, a missing
    key or known_hosts file), exit 2; XNAT or the cluster failing exits 1. With `as_json`, each
    error is also the JSON document on stdout (see `fail`).
    """
    token = _json_document.set(as_json)
    try:
        yield
    except Exception as exc:
        usage = only_failure(exc, (ConfigError, ProcessorError))
        if usage is not None:
            raise fail(str(usage), EXIT_USAGE) from exc
        xnat = only_failure(exc, XnatError)
        if xnat is not None:
            hint = "; is XNAT up, and is xnat.url right?" if isinstance(xnat, Unavailable) else ""
            raise fail(f"XNAT: {xnat}{hint}", EXIT_FAILED) from exc
        cluster = only_failure(exc, PbsError)
        if cluster is not None:
            settings_wrong = isinstance(cluster, (HostKeyRejected, SshFileUnreadable))
            code = EXIT_USAGE if settings_wrong else EXIT_FAILED
            raise fail(f"cluster: {cluster}", code) from exc
        raise
    finally:
        _json_document.reset(token)


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
    return _load(settings, paths, only, lenient=False)[0]


def processors_leniently(
    settings: AspiderSettings, only: Sequence[str] = ()
) -> tuple[list[Processor], list[Issue]]:
    """
    The configured processors that load, and the issues of those that do not (for a sweep:
    one bad file is reported and left out, and the others run).
    """
    return _load(settings, (), only, lenient=True)


def report_skipped(issues: Sequence[Issue]) -> None:
    """One error line per problem of a processor left out of the run."""
    for issue in issues:
        error_line(f"{issue} (processor skipped)", EXIT_USAGE)


def _load(
    settings: AspiderSettings, paths: Sequence[str], only: Sequence[str], *, lenient: bool
) -> tuple[list[Processor], list[Issue]]:
    sources = list(paths) or [str(p) for p in settings.processor_paths]
    if not sources and not settings.processor_classes:
        raise settings.unconfigured(
            "no processors configured: set processor_paths in the settings file to a folder "
            "of processor YAML files (`aspider init` writes one; see examples/processors)",
            "processor_paths",
        )
    where = "" if paths else " (processor_paths in the settings)"
    for source in sources:
        if not Path(source).exists():
            raise ConfigError(f"processor folder or file {source} does not exist{where}")
    classes = [] if paths else settings.processor_classes
    issues: list[Issue] = []
    if lenient:
        loaded, issues = load_processors_leniently(sources, classes)
    else:
        loaded = load_processors(sources, classes)
    if not loaded and issues:
        raise ProcessorError(issues)
    if not loaded:
        raise ConfigError(
            f"no processors in {', '.join(sources)}{where}: a processor is a file named "
            "<name>_v<X.Y.Z>.yaml, e.g. freesurfer_v7.2.0.yaml (see examples/processors)"
        )
    if not only:
        return loaded, issues
    chosen = [p for p in loaded if is_named(p, only)]
    if not chosen:
        known = ", ".join(p.proctype for p in loaded)
        raise ConfigError(f"no processor named {', '.join(only)}; loaded: {known}")
    return chosen, issues


def print_json(data: Any, write: Callable[[str], Any] | None = None) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    (write or sys.stdout.write)(text)
