"""
The `aspider` command: one module per command group, registered here, so this file stays a
table of contents.

The top layer of `aspider`: it may import every other layer (`demo`, `serve`, `run`, `plan`,
`processors`) and nothing imports it. What it adds is presentation (rich tables, progress,
JSON output), exit codes, and the `Wiring` a caller may pass as the typer context object.

Exit status, for every command: 0 done (or jobs still queued or running), 1 something failed
(a task, a project XNAT would not serve, the cluster), 2 a usage or configuration error.
"""

from __future__ import annotations

# First, before any import that may start a process (asyncssh's runs gcc and ld): secrets in
# the environment leave it, so no child of aspider ever receives them (see aspider._environ).
from aspider._environ import take_secrets

take_secrets()

# Next, before asyncssh and the rest are imported: a library's warning is not the user's news.
from aspider._library_warnings import quiet_library_warnings  # noqa: E402

quiet_library_warnings()

import sys  # noqa: E402  (after take_secrets, on purpose; so are the imports below)
import traceback  # noqa: E402

import typer  # noqa: E402

from aspider import __version__  # noqa: E402
from aspider.cli import (  # noqa: E402
    config,
    demo,
    explain,
    import_dax,
    init,
    notify,
    processors,
    run,
    sandbox,
    serve,
    status,
    trial,
    tune,
)
from aspider.cli.common import EXIT_FAILED  # noqa: E402
from aspider.cli.logs import error_record, setup_logging  # noqa: E402

app = typer.Typer(
    name="aspider",
    help=(
        "Run processing pipelines on XNAT sessions: find what each session still needs, "
        "submit the jobs to your cluster, follow them and upload the results into XNAT.\n\n"
        "New here? `aspider demo` shows the whole loop offline; `aspider init` writes a "
        "settings file to start from."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: fits 80 columns, no type placeholders on flags
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(shown: bool) -> None:
    if shown:
        typer.echo(f"aspider {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        "-V",
        callback=_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Runs before every command: logs as text unless the command says otherwise."""
    setup_logging("text")


app.command(name="demo")(demo.demo)
app.command(name="init")(init.init)
app.command(name="run")(run.run)
app.command(name="status")(status.status)
app.command(name="explain")(explain.explain)
app.command(name="rerun")(status.rerun)
app.command(name="tune")(tune.tune)
app.command(name="trial")(trial.trial)
app.command(name="processors")(processors.processors)
app.command(name="serve")(serve.serve)
app.command(name="report")(serve.report)
app.add_typer(config.config_app, name="config")
app.add_typer(notify.notify_app, name="notify")
app.command(name="sandbox")(sandbox.sandbox)
app.command(name="import-dax")(import_dax.import_dax)


def _json_logs(args: list[str]) -> bool:
    """Whether the command line asks for JSON logs (read before the command runs)."""
    joined = " ".join(args)
    return "--log-format json" in joined or "--log-format=json" in joined


def main() -> None:
    """
    Console-script entry point.

    With `--log-format json` even a usage error (an unknown option) or a crash is one JSON
    record on stderr, never a box or a traceback a log collector cannot parse.
    """
    args = sys.argv[1:]
    if not _json_logs(args):
        app()
        return
    try:
        code = app(args, standalone_mode=False)
    except typer.TyperException as exc:  # a usage error: typer's own message, as a record
        error_record(exc.format_message(), exc.exit_code)
        sys.exit(exc.exit_code)
    except typer.Abort:
        error_record("aborted", EXIT_FAILED)
        sys.exit(EXIT_FAILED)
    except Exception as exc:  # noqa: BLE001  (a bug: still one record, with its traceback)
        error_record(f"unexpected error: {exc!r}", EXIT_FAILED, traceback.format_exc())
        sys.exit(EXIT_FAILED)
    sys.exit(code if isinstance(code, int) else 0)
