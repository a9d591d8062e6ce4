"""
What a person sees while a run works.

On a terminal: one live display (rich, on stderr) for the whole run, however many sweeps: the
project and sweep number, the time since the run started, the sessions this sweep has done,
the tasks by state, the jobs queued and running, and when the next sweep starts. Without a
terminal: one line per sweep on stderr (one JSON record with `--log-format json`), so a log
shows the run moving even before the summary.

The run itself (`aspider.run.execute_run`) only calls the `RunProgress` methods; this module is
their rendering.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from datetime import timedelta
from typing import Self

from rich.console import Group
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from aspider.cli.common import errors
from aspider.cli.logs import LogFormat
from aspider.cli.report import grouped, job_counts
from aspider.plan import Plan, SessionPlan
from aspider.run import SweepReport

log = logging.getLogger("aspider.run")
progress_log = logging.getLogger("aspider.progress")

_COLOURS = {logging.WARNING: "yellow", logging.ERROR: "red"}
_DONE_WORDS = ("created", "submitted", "completed", "failed")


def _clock(seconds: float) -> str:
    return str(timedelta(seconds=int(max(0.0, seconds))))


def _in(seconds: float) -> str:
    """A wait as a person reads it: `45 s`, or `0:12:30` when it is long."""
    whole = max(0, math.ceil(seconds))
    return f"{whole} s" if whole < 120 else _clock(whole)


class RunDisplay:
    """The `RunProgress` of the command line: a live display, or a line per sweep."""

    def __init__(
        self, *, live: bool, log_format: LogFormat, wait: bool = False, interval: float = 60.0
    ) -> None:
        self.log_format = log_format
        self.wait = wait
        self.interval = interval
        self.started = time.monotonic()
        self.project = ""
        self.sweep = 0
        self.busy = 0
        self.done = 0
        self.last: SweepReport | None = None
        self.next_at: float | None = None
        self.totals: Counter[str] = Counter()
        self.latest: dict[str, SweepReport] = {}  # each project's last sweep, for `interrupted`
        self.live = (
            Live(
                get_renderable=self.render,
                console=errors,
                transient=True,
                refresh_per_second=4,
                redirect_stdout=False,
            )
            if live
            else None
        )

    def __enter__(self) -> Self:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.live is not None:
            self.live.stop()

    # -- RunProgress ------------------------------------------------------------------------

    def on_project(self, project: str) -> None:
        self.project, self.sweep, self.last, self.next_at = project, 0, None, None

    def on_plan(self, plan: Plan) -> None:
        self.sweep += 1
        self.busy = sum(1 for s in plan.sessions if s.actions)
        self.done = 0
        self.next_at = None

    def on_session(self, _: SessionPlan) -> None:
        self.done += 1

    def on_report(self, report: SweepReport) -> None:
        self.last = report
        self.latest[report.project] = report
        for (_, what), n in report.outcome.counts.items():
            self.totals[what] += n
        goes_on = self.wait and report.active > 0
        self.next_at = time.monotonic() + self.interval if goes_on else None
        if self.live is None:
            self._sweep_line(report)

    def on_notice(self, level: int, message: str) -> None:
        """A line for a person (rich, stderr) or a record for a log collector (json)."""
        if self.log_format == "json" or not errors.is_terminal:  # a file: a timed record
            log.log(level, "%s", message)
        else:
            colour = _COLOURS.get(level, "default")
            errors.print(f"[{colour}]{escape(message)}[/{colour}]", highlight=False)

    def interrupted(self) -> str:
        """
        What a Ctrl-C leaves behind, and that nothing of it is lost: jobs go on without us,
        and every one is recorded on its assessor, where the next run finds it.
        """
        swept = list(self.latest)
        if self.project and self.project not in swept:
            swept.append(self.project)
        again = f"`aspider run {' '.join(swept)}`" if swept else "the next `aspider run`"
        if not self.latest:
            return (
                "interrupted during the first sweep: what it submitted is recorded on its "
                f"assessors; {again} follows those jobs, adopts or releases any held ones, "
                "and does the rest"
            )
        jobs = Counter[str]()
        deferred = 0
        for report in self.latest.values():
            jobs.update(self._jobs(report))
            deferred += len(report.plan.deferred)
        if not (jobs["queued"] or jobs["running"] or deferred):
            return f"interrupted: nothing was in flight; {again} picks up from here"
        return (
            f"interrupted: {jobs['queued']} job(s) queued and {jobs['running']} running on the "
            f"cluster go on without aspider, {deferred} submission(s) were deferred; "
            f"{again} follows the jobs, uploads what they made, and submits the rest"
        )

    # -- rendering --------------------------------------------------------------------------

    def _jobs(self, report: SweepReport) -> dict[str, int]:
        counts = job_counts(list(report.observations.values()))
        submitted = sum(n for (_, what), n in report.outcome.counts.items() if what == "submitted")
        counts["queued"] += submitted
        return counts

    def _tasks(self, report: SweepReport) -> str:
        groups = grouped(Counter(report.states))
        return ", ".join(f"{n} {g}" for g, n in groups.items() if n) or "none yet"

    def _next(self) -> str:
        if self.next_at is None:
            return ""
        return f"; next sweep in {_in(self.next_at - time.monotonic())}"

    def render(self) -> Group:
        """The live display: a few short lines that fit 80 columns."""
        elapsed = _clock(time.monotonic() - self.started)
        lines = [Text(f"{self.project} - sweep {self.sweep} - {elapsed} elapsed", style="bold")]
        if self.next_at is None:
            lines.append(Text(f"sessions with work: {self.done}/{self.busy} done"))
        done = ", ".join(f"{self.totals[w]} {w}" for w in _DONE_WORDS)
        lines.append(Text(f"so far: {done}"))
        if self.last is not None:
            jobs = self._jobs(self.last)
            lines.append(Text(f"tasks: {self._tasks(self.last)}"))
            lines.append(Text(f"jobs: {jobs['queued']} queued, {jobs['running']} running"))
            lines[-1].append(self._next())
        return Group(*lines)

    def _sweep_line(self, report: SweepReport) -> None:
        """Without a terminal: what this sweep did, in one line (or one record)."""
        counts = Counter({what: n for (_, what), n in report.outcome.counts.items()})
        did = ", ".join(f"{counts[w]} {w}" for w in _DONE_WORDS)
        jobs = self._jobs(report)
        line = (
            f"sweep {self.sweep} of {self.project}: {did}; "
            f"jobs {jobs['queued']} queued, {jobs['running']} running{self._next()}"
        )
        if self.log_format == "json":
            fields = {
                "project": self.project,
                "sweep": self.sweep,
                **{w: counts[w] for w in _DONE_WORDS},
                "jobs_queued": jobs["queued"],
                "jobs_running": jobs["running"],
                "next_sweep_in": None
                if self.next_at is None
                else math.ceil(self.next_at - time.monotonic()),
            }
            progress_log.info("%s", line, extra={"fields": fields})
        elif not errors.is_terminal:  # a file or a pipe: a record, with its time
            progress_log.info("%s", line)
        else:
            errors.print(line, highlight=False, markup=False)
