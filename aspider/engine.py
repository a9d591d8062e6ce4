"""
Building the engine's two connections from the settings: the XNAT client and the job backend.

Every command that touches XNAT or the cluster opens them here, so credentials, limits and the
choice of executor are decided once. `XNAT_TRANSPORT` is the test seam: None in production; tests
and the demo set an `httpx.ASGITransport` over the XNAT-compatible server.
"""

from __future__ import annotations

import posixpath
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from aspider._exceptions import ConfigError
from aspider.backends import JobBackend, LocalBackend, PbsBackend
from aspider.settings import ENV_PREFIX, AspiderSettings
from pbs import LocalTransport, PbsClient, SshSettings, SshTransport, Transport
from xnat_client import Credentials, XnatClient

XNAT_TRANSPORT: httpx.AsyncBaseTransport | None = None


def xnat_client(settings: AspiderSettings) -> XnatClient:
    """The configured client (not yet opened: use it with `async with`)."""
    xnat = settings.xnat
    if not xnat.url:
        raise ConfigError("xnat.url is not set; set ASPIDER_XNAT__URL or xnat.url in the settings")
    password = xnat.resolved_password()
    credentials = None
    if xnat.user and password is not None:
        credentials = Credentials(user=xnat.user, secret=password)
    return XnatClient(
        xnat.url,
        credentials=credentials,
        netrc=xnat.netrc,
        transport=XNAT_TRANSPORT,
        concurrency=settings.limits.http_concurrency,
    )


def _ssh_settings(settings: AspiderSettings) -> SshSettings:
    c = settings.cluster
    assert c.host is not None
    fields: dict[str, object] = {
        "host": c.host,
        "port": c.port,
        "user": c.user,
        "key_path": c.key_path,
        "jump_host": c.jump_host,
        "max_channels": settings.limits.ssh_channels,
    }
    if c.known_hosts is not None:
        fields["known_hosts"] = c.known_hosts
    return SshSettings.model_validate(fields)


async def _absolute_root(transport: Transport, root: str, local: bool) -> str:
    """A relative work root is taken from the home directory where the jobs run."""
    if posixpath.isabs(root):
        return root
    if local:
        return str((Path.home() / root).resolve())
    home = (await transport.run(["sh", "-c", 'printf %s "$HOME"'], check=True)).stdout.strip()
    return posixpath.join(home, root)


@asynccontextmanager
async def open_backend(settings: AspiderSettings) -> AsyncIterator[JobBackend]:
    """The configured executor: local processes, or PBS locally or over SSH."""
    c = settings.cluster
    over_ssh = c.executor == "pbs" and bool(c.host)
    transport: LocalTransport | SshTransport = (
        SshTransport(_ssh_settings(settings))
        if over_ssh
        else LocalTransport(withhold=(ENV_PREFIX,))  # Slurm hands the caller's variables on
    )
    async with transport:
        root = await _absolute_root(transport, c.work_root, local=not over_ssh)
        if c.executor == "local":
            yield LocalBackend(transport, root)
        else:
            yield PbsBackend(PbsClient(transport, dialect=c.dialect), root)
