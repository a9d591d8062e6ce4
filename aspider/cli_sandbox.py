"""`aspider sandbox`: serve the XNAT-compatible server over real TCP on 127.0.0.1."""

from __future__ import annotations

import typer


def sandbox(
    port: int = typer.Option(8080, help="TCP port on 127.0.0.1."),
    sessions: int = typer.Option(20, help="Sessions in the synthetic project."),
    latency_ms: float = typer.Option(0.0, help="Latency added to every request, in ms."),
    seed: int = typer.Option(0, help="Seed of the synthetic-project generator."),
) -> None:
    """Serve an XNAT-compatible sandbox (user admin, password admin) until interrupted."""
    raise typer.Exit(code=2)  # replaced when the server lands
