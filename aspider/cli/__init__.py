"""
The `aspider` command: one module per command group, registered here, so this file stays a
table of contents.

The top layer of `aspider`: it may import every other layer (`demo`, `run`, `plan`,
`processors`) and nothing imports it. What it adds is presentation (rich tables, progress,
JSON output), exit codes, and the `Wiring` a caller may pass as the typer context object.
"""

from __future__ import annotations

# First, before any import that may start a process (asyncssh's runs gcc and ld): secrets in
# the environment leave it, so no child of aspider ever receives them (see aspider._environ).
from aspider._environ import take_secrets

take_secrets()

import typer  # noqa: E402  (after take_secrets, on purpose)

from aspider.cli import config, demo, explain, processors, run, sandbox, status  # noqa: E402

app = typer.Typer(
    name="aspider",
    help="Plan, submit and follow XNAT processing pipelines on PBS clusters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command(name="sandbox")(sandbox.sandbox)
app.command(name="processors")(processors.processors)
app.command(name="explain")(explain.explain)
app.command(name="run")(run.run)
app.command(name="status")(status.status)
app.command(name="rerun")(status.rerun)
app.command(name="demo")(demo.demo)
app.add_typer(config.config_app, name="config")


def main() -> None:
    """Console-script entry point."""
    app()
