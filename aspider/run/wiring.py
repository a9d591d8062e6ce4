"""
The engine's two connections, built from the settings: the XNAT client and the job backend.

Every command that touches XNAT or the cluster opens them through a `Wiring`, so credentials,
limits and the choice of executor are decided once. A `Wiring` is also the seam: production
uses the default (the network); the demo and the tests pass one whose XNAT transport is an
`httpx.ASGITransport` over the XNAT-compatible server. It is an argument, never a module
global, so nothing needs patching.
"""

from __future__ import annotations

import difflib
import logging
import posixpath
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from aspider._environ import taken_secrets
from aspider._exceptions import ConfigError
from aspider._gc import snapshot_step
from aspider.run.backends import ArrayPolicy, JobBackend, LocalBackend, SchedulerBackend
from aspider.run.tasks.job_templates import checked_job_template
from aspider.settings import ENV_PREFIX, AspiderSettings
from pbs import (
    BatchClient,
    JobTemplate,
    LocalTransport,
    PbsClient,
    SlurmClient,
    SshSettings,
    SshTransport,
    Transport,
)
from xnat_client import AuthFailed, ProjectSnapshot, XnatClient

log = logging.getLogger("aspider.run")

#: The engine's collector policy for its XNAT client: the cyclic collector paused around each
#: CPU-bound step of reading a snapshot, and what the step built frozen (`aspider._gc`). A
#: benchmark of the engine builds its client with it too.
AROUND_CPU_WORK = snapshot_step


@dataclass(frozen=True)
class Wiring:
    """
    How the engine reaches XNAT: over the network (None), or through the transport given.

    The cluster side needs no such seam: the local executor is real, and the tests run the
    PBS executor against the loopback cluster.
    """

    xnat_transport: httpx.AsyncBaseTransport | None = None

    def xnat(self, settings: AspiderSettings) -> XnatClient:
        """The configured client (not yet opened: use it with `async with`)."""
        return xnat_client(settings, self.xnat_transport)

    @asynccontextmanager
    async def open_xnat(
        self, settings: AspiderSettings, projects: Sequence[str] = ()
    ) -> AsyncIterator[XnatClient]:
        """
        The configured client, opened, once XNAT has answered one request.

        Every command starts here, before it touches the cluster: with XNAT down or the URL
        wrong, nothing is created anywhere, and the person reads one error instead of a retry
        warning per request. That request lists the projects the account can see, so a
        mistyped project is caught by it too, before any write (a lease, an assessor).

        Raises:
            XnatError: XNAT did not answer (after the client's retries) or refused the login.
            ConfigError: one of `projects` is not among those the account can see.
        """
        async with self.xnat(settings) as xnat:
            try:
                visible = await check_xnat(xnat)
            except AuthFailed as exc:
                if exc.status != 401:  # an unreadable netrc, a proxy's login page: as it is
                    raise
                raise ConfigError(login_refused(settings)) from exc
            check_projects(projects, visible, settings)
            yield xnat


NETWORK = Wiring()  # production: XNAT over the network


def xnat_client(
    settings: AspiderSettings, transport: httpx.AsyncBaseTransport | None = None
) -> XnatClient:
    """The configured client (not yet opened: use it with `async with`)."""
    return XnatClient.from_settings(
        settings.xnat_client_settings(), transport=transport, around_cpu_work=AROUND_CPU_WORK
    )


class _HoldRetryWarnings(logging.Filter):
    """Keeps the client's retry warnings back while XNAT is first tried, and counts them."""

    def __init__(self) -> None:
        super().__init__()
        self.held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING:
            self.held += 1
            return False
        return True


async def check_xnat(xnat: XnatClient) -> list[str]:
    """
    One listing of projects, its retry warnings held back; one warning if it needed them.

    Returns:
        The IDs of the projects the account can see.
    """
    logger = logging.getLogger("xnat_client")
    hold = _HoldRetryWarnings()
    logger.addFilter(hold)
    try:
        listed = await xnat.list_projects()
    finally:
        logger.removeFilter(hold)
    if hold.held:
        log.warning("XNAT answered after %d retried request(s)", hold.held)
    return [project.id for project in listed]


def login_refused(settings: AspiderSettings) -> str:
    """
    XNAT said 401 to the first request: whose credentials it refused, from where they came,
    and where the right ones go (never the secret itself).
    """
    xnat = settings.xnat
    host = urlsplit(xnat.url).hostname or xnat.url
    netrc = xnat.netrc or "~/.netrc"
    where = (
        f"set xnat.user and the password in {ENV_PREFIX}XNAT__PASSWORD or a file named by "
        f"xnat.password_file, or add `machine {host} login USER password ...` to {netrc}"
    )
    if xnat.alias:
        return (
            f"XNAT at {xnat.url} refused alias token {xnat.alias!r}: it may have expired; "
            f"make a new one and set xnat.alias and {ENV_PREFIX}XNAT__SECRET"
        )
    if xnat.user and (xnat.password is not None or xnat.password_file is not None):
        from_env = "password" in taken_secrets().get("xnat", {})
        source = (
            f"xnat.password_file ({xnat.password_file})"
            if xnat.password is None
            else f"{ENV_PREFIX}XNAT__PASSWORD"
            if from_env
            else "the settings given (xnat.password)"
        )
        return (
            f"XNAT at {xnat.url} refused user {xnat.user!r} with the password from {source}: "
            f"check the password there (can the user log in to the web page?)"
        )
    if xnat.user:
        return (
            f"XNAT at {xnat.url} refused user {xnat.user!r} with the password of {netrc} "
            f"for {host} (or found none there): {where}"
        )
    return f"XNAT at {xnat.url} wants a login and aspider has none: {where}"


def check_projects(
    wanted: Sequence[str], visible: Sequence[str], settings: AspiderSettings
) -> None:
    """
    Every project named is one XNAT lists for this account; else the closest it does list.

    XNAT answers a project it hides from the account, or has not, with 404 on the first write,
    which reads like a server fault; the listing already read tells the two apart for free.

    Raises:
        ConfigError: naming the project, the account, and the nearest visible project IDs.
    """
    for project in wanted:
        if project in visible:
            continue
        user = settings.xnat.user or "this account"
        text = f"project {project!r}: XNAT at {settings.xnat.url} lists no such project for {user}"
        raise ConfigError(f"{text}; {_nearest(project, visible)}")


def _nearest(project: str, visible: Sequence[str]) -> str:
    by_folded = {name.casefold(): name for name in visible}
    close = difflib.get_close_matches(project.casefold(), list(by_folded), n=3, cutoff=0.6)
    named = [by_folded[folded] for folded in close]  # a case-only slip is the closest of all
    if named:
        return "did you mean " + " or ".join(named) + "?"
    if not visible:
        return "it can see none: check the user's access (project members) in XNAT"
    shown = ", ".join(sorted(visible)[:10]) + (", ..." if len(visible) > 10 else "")
    return f"projects it can see: {shown}"


async def read_snapshots(
    xnat: XnatClient,
    projects: Sequence[str],
    *,
    tracers: bool = False,
    subject_assessors: bool = False,
) -> list[ProjectSnapshot]:
    """One snapshot per project (a constant number of requests each), in the order given."""
    return [
        await xnat.project_snapshot(project, tracers=tracers, subject_assessors=subject_assessors)
        for project in projects
    ]


def ssh_settings(settings: AspiderSettings) -> SshSettings:
    """
    How to reach the login node, from `cluster:`; unset fields keep SshSettings' defaults
    (the ssh config's values for an alias, then OpenSSH's).

    Raises:
        ConfigError: a field SshSettings refuses (a malformed `jump_host`, say).
    """
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
    if c.ssh_config is not None:
        none = c.ssh_config.strip().lower() == "none"
        fields["ssh_config"] = None if none else Path(c.ssh_config).expanduser()
    try:
        return SshSettings.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"cluster.{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        raise ConfigError(problems) from exc


def job_template(settings: AspiderSettings) -> JobTemplate | None:
    """
    `cluster.job_template`, read and checked on this machine; None when not set.

    Raises:
        ConfigError: the file cannot be read, or is no usable template.
    """
    path = settings.cluster.job_template
    if path is None:
        return None
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cluster.job_template: cannot read {path} ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cluster.job_template: {path}: {exc}") from exc
    return checked_job_template(text, f"cluster.job_template: {path}")


def scheduler_client(
    settings: AspiderSettings, transport: Transport, template: JobTemplate | None = None
) -> BatchClient:
    """The executor's client: PBS commands in the configured dialect, or Slurm's own."""
    c = settings.cluster
    if c.executor == "slurm":
        return SlurmClient(
            transport, job_template=template, accounting=c.accounting, submit_rate=c.submit_rate
        )
    return PbsClient(transport, dialect=c.dialect, submit_rate=c.submit_rate)


def array_policy(settings: AspiderSettings) -> ArrayPolicy | None:
    """
    How submissions are grouped into job arrays: Slurm's, unless `cluster.arrays` is off.

    The `pbs` executor sends every job alone. `pbs` builds PBS Pro (`qsub -J`) and Torque
    (`qsub -t`) arrays and reads their elements (`123[7].server`), tested on outputs written
    from the manuals; but no PBS Pro or Torque server is at hand to run them, and the loopback
    cluster's Torque wrappers over Slurm stop right after the submission
    (tests/pbs/test_arrays_cluster.py): `qsub -t` queues the array and each element runs its
    own job directory, but their qstat lists no element (`qstat -f 123_7` finds nothing, and
    `-t` is an unknown option), so an element could not be followed; and their qrls and qdel
    read `123_7` as the number 123, so releasing or cancelling one element would release or
    cancel the whole array, where crash safety, retries and `rerun --cancel` act on one.
    """
    c = settings.cluster
    if not c.arrays or c.executor != "slurm":
        return None
    return ArrayPolicy(max_elements=c.array_max, parallel=c.array_parallel)


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
    """The configured executor: local processes, or PBS or Slurm, locally or over SSH."""
    c = settings.cluster
    template = job_template(settings)  # a bad template is refused before any connection
    transport: LocalTransport | SshTransport = (
        SshTransport(ssh_settings(settings))
        if c.over_ssh
        else LocalTransport(withhold=(ENV_PREFIX,))  # Slurm hands the caller's variables on
    )
    async with transport:
        root = await _absolute_root(transport, c.work_root, local=not c.over_ssh)
        if c.executor == "local":
            yield LocalBackend(transport, root)
        else:
            client = scheduler_client(settings, transport, template)
            yield SchedulerBackend(client, root, c.executor, arrays=array_policy(settings))
