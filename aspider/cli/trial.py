"""
`aspider trial PROCESSOR_FILE PROJ SESSION`: try a processor on one session, on the cluster.

The command is a face on the engine's `try_processor` (which the Python API calls too): what
happens as it goes is told on stderr, one line per change, and its answer is printed on
stdout at the end (or one JSON document with `--json`). Exit 0 when the trial's job completed;
1 when it failed, could not run there, or XNAT or the cluster stopped it; 2 for a processor
file that does not load (file:line: field) or another usage error; 130 on Ctrl-C, after the
trial's assessor was removed (unless `--keep`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.console import Console

from aspider._exceptions import TrialInTheWay
from aspider.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    JSON_OPTION,
    SETTINGS_OPTION,
    console,
    errors,
    fail,
    print_json,
    settings_from,
    user_errors,
    wiring_of,
)
from aspider.cli.explain import headline, outlook
from aspider.plan import ProcessorExplanation
from aspider.run import ProcessorTrial, TrialTask, try_processor


def trial(
    ctx: typer.Context,
    processor_file: Annotated[
        Path,
        typer.Argument(help="The processor file to try (it need not be in processor_paths)."),
    ],
    project: str = typer.Argument(..., help="Project ID in XNAT."),
    session: str = typer.Argument(
        ..., help="Session label in XNAT (a subject-level processor: one of its subject's)."
    ),
    keep: bool = typer.Option(
        False, "--keep", help="Leave the trial's assessor in XNAT for review (else removed)."
    ),
    interval: float = typer.Option(15.0, help="Seconds between looks at the job."),
    as_json: bool = JSON_OPTION,
    settings_file: Path | None = SETTINGS_OPTION,
) -> None:
    """
    Try a processor on one session, end to end, on the cluster; then remove it.

    The processor runs as any task does (inputs staged, job submitted to the configured
    executor, outputs uploaded), with the project's overrides, under the proctype
    TRIAL_<proctype>, which no sweep, count or processor takes for a result. Waits for the
    job, then prints its log's last lines, its outputs in XNAT, and what a real sweep would
    do for the processor on that session. The trial's assessor is removed at the end (also
    on failure and Ctrl-C) unless --keep.
    """
    with user_errors(as_json):
        settings = settings_from(settings_file)
        wiring = wiring_of(ctx)
        try:
            result = anyio.run(
                lambda: try_processor(
                    settings,
                    processor_file,
                    project,
                    session,
                    keep=keep,
                    interval=interval,
                    wiring=wiring,
                    say=_progress,
                )
            )
        except TrialInTheWay as exc:
            raise fail(str(exc), EXIT_FAILED) from exc
        except KeyboardInterrupt:
            raise fail(_interrupted(keep), EXIT_INTERRUPTED) from None
    if as_json:
        print_json(result.to_dict())
    else:
        print_trial(console, result)
    raise typer.Exit(EXIT_OK if result.ok else EXIT_FAILED)


def _interrupted(keep: bool) -> str:
    if not keep:
        return "interrupted: what the trial had made was removed, as said above"
    return (
        "interrupted: the trial's assessor is left as it was (--keep); a job it submitted "
        "runs on unfollowed, and the next trial of the processor here replaces it"
    )


def _progress(line: str) -> None:
    errors.print(line, markup=False, highlight=False)


def print_trial(out: Console, result: ProcessorTrial) -> None:
    """The trial's answer: each task's end, what a sweep would do, what was removed."""
    lines = [f"{result.proctype} on {result.project} session {result.session} ({result.source})"]
    if not result.tasks and not result.errors:
        lines.append(f"not tried: {result.processor} cannot run on this session")
    for task in result.tasks:
        lines += task_lines(task)
    lines += [f"stopped: {error}" for error in result.errors]
    lines += sweep_lines(result.sweep, result.session)
    lines += _end_lines(result)
    for line in lines:
        out.print(line, markup=False, highlight=False)


def task_lines(task: TrialTask) -> list[str]:
    """One task: its end, the last lines of its job's log, its outputs in XNAT."""
    job = f", job {task.job_id}" if task.job_id else ""
    why = f": {task.reason}" if task.reason else ""
    lines = [f"{task.label}: {task.procstatus}{job}{why}"]
    if task.log_tail:
        lines.append("  log (last lines of job.log):")
        lines += [f"    {line}" for line in task.log_tail]
    if task.outputs:
        lines.append("  outputs in XNAT:")
        lines += [f"    {o.resource}/{o.name} ({_size(o.size)})" for o in task.outputs]
    return lines


def sweep_lines(item: ProcessorExplanation, session: str) -> list[str]:
    """What a real sweep does for the processor on the session, as `explain` says it."""
    if not item.applies:
        lines = [f"a sweep: {item.proctype} does not apply to {session}"]
        return lines + [f"  - {reason}" for reason in item.reasons]
    lines = [f"a sweep of {item.proctype} on {session}: {headline(item)}"]
    for task in item.tasks:
        lines.append(f"  task {task['label']}")
        lines += [f"    - {sentence}" for sentence in outlook(task)]
    return lines + [f"  ! {finding}" for finding in item.findings]


def _end_lines(result: ProcessorTrial) -> list[str]:
    if not result.tasks:
        return []
    if result.kept:
        labels = ", ".join(t.label for t in result.tasks)
        return [
            f"kept in XNAT for review: {labels}",
            "  (a sweep never takes it for a result; the next trial here replaces it)",
        ]
    lines = [f"removed from XNAT: {what}" for what in result.removed]
    lines += [f"NOT removed: {what}" for what in result.not_removed]
    return [*lines, "  (--keep leaves a trial in XNAT for review)"]


def _size(size: int | None) -> str:
    return "size unknown" if size is None else f"{size:,} bytes"
