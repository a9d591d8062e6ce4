"""
The `aspider` command. Each subcommand lives in its own module and is registered here, so this
file stays a table of contents.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="aspider",
    help="Plan, submit and follow XNAT processing pipelines on PBS clusters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from aspider import (
        cli_config,
        cli_demo,
        cli_explain,
        cli_processors,
        cli_run,
        cli_sandbox,
        cli_sweep,
    )

    app.command(name="sandbox")(cli_sandbox.sandbox)
    app.command(name="processors")(cli_processors.processors)
    app.command(name="explain")(cli_explain.explain)
    app.command(name="run")(cli_run.run)
    app.command(name="status")(cli_sweep.status)
    app.command(name="rerun")(cli_sweep.rerun)
    app.command(name="demo")(cli_demo.demo)
    app.add_typer(cli_config.config_app, name="config")


def main() -> None:
    """Console-script entry point."""
    _register()
    app()
