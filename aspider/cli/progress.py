"""
What a person sees while a run works: a progress bar per sweep of a project, and notices.

The run itself (`aspider.run.runner.execute_run`) only calls the `RunProgress` methods; this is
the rich rendering of them on stderr, or one log record per notice for `--log-format json`.
"""

from __future__ import annotations

import logging
from typing import Self

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from aspider.cli.common import errors
from aspider.cli.logs import LogFormat
from aspider.plan import Plan, SessionPlan

log = logging.getLogger("aspider.run")

_COLOURS = {logging.WARNING: "yellow", logging.ERROR: "red"}


class SweepBars:
    """A rich progress bar per sweep: sessions done out of sessions with work."""

    def __init__(self, show: bool, log_format: LogFormat) -> None:
        self.log_format = log_format
        self.progress = (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=errors,
                transient=True,
            )
            if show
            else None
        )
        self.project = ""
        self.task: TaskID | None = None

    def __enter__(self) -> Self:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def on_project(self, project: str) -> None:
        self.project = project

    def on_plan(self, plan: Plan) -> None:
        if self.progress is None:
            return
        busy = sum(1 for s in plan.sessions if s.actions)
        self.task = self.progress.add_task(self.project, total=busy)

    def on_session(self, _: SessionPlan) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task)

    def on_notice(self, level: int, message: str) -> None:
        """A line for a person (rich, stderr) or a record for a log collector (json)."""
        if self.log_format == "json":
            log.log(level, "%s", message)
        else:
            colour = _COLOURS.get(level, "default")
            errors.print(f"[{colour}]{escape(message)}[/{colour}]", highlight=False)
