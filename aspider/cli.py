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
    from aspider import cli_sandbox

    app.command(name="sandbox")(cli_sandbox.sandbox)


def main() -> None:
    """Console-script entry point."""
    _register()
    app()
