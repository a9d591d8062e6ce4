"""
`aspider notify test` (a test message on every channel, and what each did with it),
`aspider notify digest` (the day's digest now, for sites without `aspider serve`), and what
`aspider run` says after a run (`after_run`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import anyio
import typer

from aspider._exceptions import Issue
from aspider.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    SETTINGS_OPTION,
    console,
    error_line,
    errors,
    fail,
    processors_leniently,
    report_skipped,
    settings_from,
    user_errors,
    wiring_of,
)
from aspider.cli.logs import log_format
from aspider.notify import (
    DigestOutcome,
    Notifier,
    ProjectFacts,
    RunFacts,
    notify_projects,
    send_digest,
    today,
    try_channels,
)
from aspider.processors import Processor
from aspider.run import Wiring, for_project
from aspider.settings import AspiderSettings

log = logging.getLogger("aspider.notify")

notify_app = typer.Typer(
    help="Notifications: try every channel, or send the day's digest now.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

NO_CHANNEL = (
    "no notification channel is configured: set notify.email.host and notify.email.to, or "
    "notify.webhook.url, in the settings (examples/settings.yaml shows both)"
)


@notify_app.command("test")
def try_every_channel(settings_file: Path | None = SETTINGS_OPTION) -> None:
    """Send a test message to every configured channel; say what each did with it."""
    with user_errors():
        notifier = Notifier(settings_from(settings_file), webhook_transport=None)
        if not notifier.routes.every():
            raise fail(NO_CHANNEL, EXIT_USAGE)
        results = anyio.run(try_channels, notifier)
    for result in results:
        if result.ok:
            console.print(f"{result.channel} via {result.where}: sent", highlight=False)
        else:
            error_line(f"{result.channel} via {result.where}: {result.error}", EXIT_FAILED)
    raise typer.Exit(EXIT_OK if all(r.ok for r in results) else EXIT_FAILED)


@notify_app.command("digest")
def digest(
    ctx: typer.Context,
    projects: Annotated[
        list[str] | None, typer.Argument(help="Project IDs (default: every configured).")
    ] = None,
    force: bool = typer.Option(
        False, "--force", help="Send it even if today's went out already (from any host)."
    ),
    settings_file: Path | None = SETTINGS_OPTION,
) -> None:
    """
    Send today's digest now: per project, what completed, failed, is blocked, and the queue.

    Once a day across every host: a project whose digest went out today (from here, another
    host or the service) is left out, unless --force.
    """
    wiring = wiring_of(ctx)
    with user_errors():
        settings = settings_from(settings_file)
        names = projects or sorted(settings.projects)
        if not names:
            raise fail("no projects given and none configured (settings: projects)")
        notifier = Notifier(settings)
        if not notifier.routes.every():
            raise fail(NO_CHANNEL, EXIT_USAGE)
        procs, skipped = processors_leniently(settings)
        report_skipped(skipped)
        by_project = {p: for_project(settings, p, procs) for p in names}
        outcome = anyio.run(lambda: _digest(notifier, settings, wiring, by_project, force))
    raise typer.Exit(_report_digest(outcome))


async def _digest(
    notifier: Notifier,
    settings: AspiderSettings,
    wiring: Wiring,
    by_project: dict[str, list[Processor]],
    force: bool,
) -> DigestOutcome:
    async with wiring.open_xnat(settings, list(by_project)) as xnat:
        return await send_digest(notifier, xnat, by_project, slot=today(), force=force)


def _report_digest(outcome: DigestOutcome) -> int:
    for channel, names in outcome.sent.items():
        console.print(f"digest of {', '.join(names)} sent: {channel}", highlight=False)
    if outcome.taken:
        console.print(
            f"today's digest of {', '.join(outcome.taken)} went out already (--force: again)",
            highlight=False,
        )
    for channel, why in outcome.failed.items():
        error_line(f"{channel}: {why}", EXIT_FAILED)
    for project, why in outcome.unread.items():
        error_line(f"project {project}: {why}", EXIT_FAILED)
    if not (outcome.sent or outcome.taken or outcome.failed or outcome.unread):
        console.print("no digest to send: no project has a channel", highlight=False)
    return EXIT_FAILED if outcome.failed or outcome.unread else EXIT_OK


def notifier_for_run(settings: AspiderSettings, no_notify: bool) -> Notifier | None:
    """
    The run's notifier, made before the run so that a notification setting that cannot work
    stops it at once (exit 2); None when nothing is to be sent.

    Raises:
        ConfigError: the notification settings cannot work (the message names the fix).
    """
    if no_notify or not settings.notify.enabled or not settings.notify.channels:
        return None
    return Notifier(settings)


def after_run(
    notifier: Notifier,
    settings: AspiderSettings,
    wiring: Wiring,
    facts: dict[str, ProjectFacts],
    procs: Sequence[Processor],
    skipped: Sequence[Issue],
) -> None:
    """What a run says when it ends: alerts, resolutions, held-back notes; one line of it."""
    run = RunFacts(facts, [(issue.path, str(issue)) for issue in skipped])
    by_project = {p: for_project(settings, p, procs) for p in facts}

    async def tell() -> None:
        async with wiring.xnat(settings) as xnat:
            await notify_projects(notifier, xnat, run, by_project)

    anyio.run(tell)
    said = notifier.summary()
    if said and log_format() == "text":
        errors.print(f"notifications: {said}", highlight=False, markup=False)
    log.info("notifications: %s", said or "nothing to say")
