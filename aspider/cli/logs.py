"""
Logging for people (rich, on stderr) or for containers (`--log-format json`: one JSON object per
line on stderr, which log collectors parse without rules). Secrets never reach a log record:
clients and transports log argv and URLs, never credentials.

Stdout is left to what a command prints as its result (tables, or one JSON document with
`--json`); every log record, warning and error goes to stderr. With `--log-format json` the
final error of a command is a record too (`error_record`), and so is each action a sweep takes
(logger `aspider.actions`, with project, session, label and job id as fields).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text

from aspider._library_warnings import flush_to_log, quiet_library_warnings

LogFormat = Literal["text", "json"]

# Loggers whose INFO records are what a log collector wants: one per action, one per sweep.
ACTION_LOGGERS = ("aspider.actions", "aspider.progress", "aspider.notify")

_state: dict[str, LogFormat] = {"format": "text"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record; a record's `fields` (from `extra=`) are keys of their own."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class LineFormatter(logging.Formatter):
    """
    Text for a file or a pipe: one line a record, never wrapped (grep finds a whole label), with
    an ISO 8601 time and its offset (no guessing the zone or the day order).
    """

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return iso_time(record.created)


def iso_time(created: float) -> str:
    """`2026-12-07T06:51:46+01:00`: local time, to the second, with its offset."""
    return datetime.fromtimestamp(created).astimezone().isoformat(timespec="seconds")


def _text_handler() -> logging.Handler:
    """rich's columns for a person at a terminal; plain lines anywhere else."""
    if not sys.stderr.isatty():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(LineFormatter())
        return handler
    console = Console(stderr=True, soft_wrap=True, emoji=False)
    return RichHandler(
        console=console,
        show_path=False,
        markup=False,
        rich_tracebacks=False,
        log_time_format=lambda when: Text(when.astimezone().isoformat(timespec="seconds")),
    )


def setup_logging(fmt: LogFormat = "text", verbose: bool = False) -> None:
    """Configure the root logger once per command; every record goes to stderr."""
    handler: logging.Handler
    if fmt == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    else:
        handler = _text_handler()
    _state["format"] = fmt
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    for name in ACTION_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if fmt == "json" or verbose else 0)
    if fmt == "text" and not sys.stderr.isatty():  # each sweep's line, as a record in a file
        logging.getLogger("aspider.progress").setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "asyncssh"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.captureWarnings(fmt == "json")  # a Python warning is a record too, not free text
    quiet_library_warnings()  # outermost again: the quieted ones stay out of the records too
    flush_to_log()


def log_format() -> LogFormat:
    """The format the current command logs in."""
    return _state["format"]


def error_record(message: str, exit_status: int, exception: str = "") -> None:
    """A command's final error as one JSON record on stderr (`--log-format json`)."""
    entry: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(),
        "level": "error",
        "logger": "aspider",
        "message": message,
        "exit_status": exit_status,
    }
    if exception:
        entry["exception"] = exception
    sys.stderr.write(json.dumps(entry, ensure_ascii=False) + "\n")
    sys.stderr.flush()
