"""`aspider demo`: the whole loop offline on the built-in sandbox (see aspider.demo)."""

from __future__ import annotations

import typer

from aspider.logs import setup_logging


def demo(
    sessions: int = typer.Option(20, help="Sessions in the synthetic project."),
    seed: int = typer.Option(7, help="Seed of the synthetic project."),
) -> None:
    """Run the whole loop offline: sandbox XNAT, two real processors, the local executor."""
    from aspider.demo import run_demo

    setup_logging("text")
    raise typer.Exit(run_demo(sessions=sessions, seed=seed))
