"""`aspider sandbox`: serve the XNAT-compatible server over real TCP on 127.0.0.1."""

from __future__ import annotations

import anyio
import typer

from xnat_client.server import XnatServer, generate_project, serve_tcp

PROJECT = "DEMO"


def sandbox(
    port: int = typer.Option(8080, help="TCP port on 127.0.0.1."),
    sessions: int = typer.Option(20, help="Sessions in the synthetic project."),
    latency_ms: float = typer.Option(0.0, help="Latency added to every request, in ms."),
    seed: int = typer.Option(0, help="Seed of the synthetic-project generator."),
) -> None:
    """
    Serve an XNAT-compatible server on 127.0.0.1 (admin/admin).

    A synthetic project DEMO over real HTTP, to point `aspider run` at; until Ctrl-C.
    """
    server = XnatServer(latency=latency_ms / 1000.0)
    generate_project(server, PROJECT, sessions=sessions, seed=seed)
    try:
        anyio.run(_serve, server, port, sessions)
    except KeyboardInterrupt:
        typer.echo("sandbox stopped")
    except OSError as exc:
        typer.echo(f"cannot listen on 127.0.0.1:{port}: {exc}; try --port 0 for any free port")
        raise typer.Exit(code=1) from exc


async def _serve(server: XnatServer, port: int, sessions: int) -> None:
    async with serve_tcp(server, port) as url:
        typer.echo(f"XNAT sandbox at {url}  (project {PROJECT}, {sessions} sessions)")
        typer.echo("user: admin  password: admin")
        typer.echo("Ctrl-C to stop")
        await anyio.sleep_forever()
