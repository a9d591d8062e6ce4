"""`aspider sandbox`: serve the XNAT-compatible server over real TCP on 127.0.0.1."""

from __future__ import annotations

import signal
import tempfile
from pathlib import Path
from typing import Annotated

import anyio
import typer

from aspider.cli.common import fail
from xnat_client.sandbox import (
    Faults,
    TlsIdentity,
    XnatServer,
    generate_project,
    make_tls_identity,
    serve_tcp,
)

PROJECT = "DEMO"


def sandbox(
    port: int = typer.Option(8080, help="TCP port on 127.0.0.1 (0: any free port)."),
    sessions: int = typer.Option(20, help="Sessions in the synthetic project."),
    scans_per_session: int = typer.Option(6, help="Scans in each session."),
    scan_types: str = typer.Option(
        "", help="Comma-separated scan types (the first is in every session); default: MR mix."
    ),
    assessors_per_session: int = typer.Option(3, help="Existing assessors in each session."),
    user: str = typer.Option("admin", help="The user who may log in."),
    password: str = typer.Option(
        "admin", help="Their password.", envvar="ASPIDER_SANDBOX_PASSWORD", show_default=False
    ),
    tls: bool = typer.Option(False, "--tls", help="HTTPS, with a certificate made at start."),
    tls_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where --tls writes its CA certificate (default: a new temporary folder)."
        ),
    ] = None,
    latency_ms: float = typer.Option(0.0, help="Latency added to every request, in ms."),
    error_rate: float = typer.Option(0.0, min=0, max=1, help="Share of requests answered 5xx."),
    timeout_rate: float = typer.Option(0.0, min=0, max=1, help="Share of requests that hang."),
    drop_rate: float = typer.Option(0.0, min=0, max=1, help="Share of answers cut half-way."),
    hang_seconds: float = typer.Option(30.0, help="How long a hung request hangs."),
    fault_seed: int | None = typer.Option(None, help="Seed of the faults (repeatable runs)."),
    seed: int = typer.Option(0, help="Seed of the synthetic-project generator."),
) -> None:
    """
    Serve an XNAT-compatible server on 127.0.0.1 with a synthetic project DEMO.

    Real HTTP (or HTTPS with --tls) to point `aspider run`, pyxnat or xnatpy at, with the knobs
    a test of a real night needs: scans, users, latency and faults. Runs until Ctrl-C.
    """
    faults = Faults(
        error_rate=error_rate,
        timeout_rate=timeout_rate,
        drop_rate=drop_rate,
        hang_seconds=hang_seconds,
        seed=fault_seed,
    )
    server = XnatServer(users={user: password}, latency=latency_ms / 1000.0, faults=faults)
    types = [t.strip() for t in scan_types.split(",") if t.strip()] or None
    generate_project(
        server,
        PROJECT,
        sessions=sessions,
        scans_per_session=scans_per_session,
        assessors_per_session=assessors_per_session,
        seed=seed,
        scan_types=types,
    )
    chosen_password = password != "admin"
    # It says "Ctrl-C to stop": so it must, even started from a shell that ignores SIGINT for
    # its background jobs (a script's `aspider sandbox &`), whose children inherit that.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        anyio.run(_serve, server, port, sessions, user, chosen_password, tls, tls_dir)
    except KeyboardInterrupt:
        typer.echo("sandbox stopped")
    except ImportError as exc:  # --tls without the sandbox extra: the message names it
        raise fail(str(exc)) from exc
    except OSError as exc:
        typer.echo(f"cannot listen on 127.0.0.1:{port}: {exc}; try --port 0 for any free port")
        raise typer.Exit(code=1) from exc


async def _serve(
    server: XnatServer,
    port: int,
    sessions: int,
    user: str,
    chosen_password: bool,
    tls: bool,
    tls_dir: Path | None,
) -> None:
    identity = _identity(tls_dir) if tls else None
    context = identity.context if identity is not None else None
    async with serve_tcp(server, port, ssl=context) as url:
        typer.echo(f"XNAT sandbox at {url}  (project {PROJECT}, {sessions} sessions)")
        shown = "(the one you chose)" if chosen_password else "admin"
        typer.echo(f"user: {user}  password: {shown}")
        if identity is not None:
            ca = identity.ca_file
            typer.echo(f"CA certificate: {ca}")
            typer.echo(f"  aspider: ASPIDER_XNAT__CA_BUNDLE={ca}   (or xnat.ca_bundle)")
            typer.echo(f"  pyxnat, xnatpy, DAX: REQUESTS_CA_BUNDLE={ca}   curl: --cacert {ca}")
        typer.echo("Ctrl-C to stop")
        await anyio.sleep_forever()


def _identity(tls_dir: Path | None) -> TlsIdentity:
    folder = tls_dir or Path(tempfile.mkdtemp(prefix="aspider-sandbox-tls-"))
    return make_tls_identity(folder)
