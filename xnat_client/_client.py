"""
`XnatClient`: the public face of the package, one object per XNAT connection.

It owns one HTTP connection pool (aiohttp's, through httpx-aiohttp) and one login session;
every method is a thin call into the module that does the work (`_snapshot`, `_assessors`,
`_files`). Use it as `async with
XnatClient(...) as xnat:`, or call `aclose()` yourself; afterwards every call raises
`ClientClosed`.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from . import _assessors, _changes, _files, _snapshot, _workflows, _zips
from ._assessors import AssessorFields
from ._auth import Credentials
from ._changes import SessionChange
from ._csv_listing import CpuWork
from ._files import Sink, UploadSource
from ._http import HttpCore, Network
from ._models import FileEntry, Project, ProjectSnapshot, Session, Workflow
from ._paths import ResourceRef
from ._settings import DEFAULT_CONCURRENCY, RetryPolicy, Timeouts, XnatSettings
from ._version import __version__

USER_AGENT = f"aspider-xnat/{__version__}"


class XnatClient:
    """
    An async XNAT REST client.

    Args:
        url: the server root, with its context path if any (`https://host/xnat`).
        credentials: `Credentials.password(...)` or `Credentials.alias_token(...)`. When None,
            the host is looked up in `netrc` (default `~/.netrc`); when that fails too, requests
            go out anonymously (fine for public data on open sites).
        transport: an `httpx.AsyncBaseTransport` to use instead of the network, e.g.
            `httpx.ASGITransport(app=...)` in tests.
        concurrency: the most requests in flight at once (and connections kept open).
        verify, ca_bundle, proxy: TLS checking and the proxy of the default transport, as
            in `XnatSettings` (proxy None: from the environment; "": none).
        timeouts, retry: see `Timeouts` and `RetryPolicy`.
        around_cpu_work: a synchronous context manager factory entered around each CPU-bound
            step of reading a snapshot (folding a block of about a MiB of a listing, building
            the models in a worker thread), and never across an await: the place for an
            application's pause of the garbage collector. It may be entered from a worker
            thread, and by several snapshots at once.
    """

    def __init__(
        self,
        url: str,
        *,
        credentials: Credentials | None = None,
        netrc: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        verify: bool = True,
        ca_bundle: Path | None = None,
        proxy: str | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        user_agent: str = USER_AGENT,
        around_cpu_work: CpuWork = nullcontext,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if credentials is None:
            credentials = Credentials.from_netrc(url, netrc)
        self._core = HttpCore(
            url,
            credentials=credentials,
            transport=transport,
            concurrency=concurrency,
            timeouts=timeouts or Timeouts(),
            retry=retry or RetryPolicy(),
            user_agent=user_agent,
            network=Network(verify=verify, ca_bundle=ca_bundle, proxy=proxy),
        )
        self._user = credentials.user if credentials else None
        self._cpu = around_cpu_work

    @classmethod
    def from_settings(
        cls,
        settings: XnatSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        around_cpu_work: CpuWork = nullcontext,
    ) -> XnatClient:
        """The client `settings` describe; `transport` replaces the network (tests, the demo)."""
        return cls(
            settings.url,
            credentials=_settings_credentials(settings),
            netrc=settings.netrc,
            transport=transport,
            concurrency=settings.concurrency,
            verify=settings.verify,
            ca_bundle=settings.ca_bundle,
            proxy=settings.proxy,
            timeouts=settings.timeouts,
            retry=settings.retry,
            around_cpu_work=around_cpu_work,
        )

    def __repr__(self) -> str:
        state = "closed" if self._core.closed else "open"
        return f"<XnatClient {self._core.base} user={self._user!r} {state}>"

    @property
    def requests_sent(self) -> int:
        """HTTP requests that reached the transport so far, logins and retries included."""
        return self._core.requests_sent

    @property
    def closed(self) -> bool:
        return self._core.closed

    async def __aenter__(self) -> Self:
        self._core.check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Log out and close the connections; safe to call twice."""
        await self._core.aclose()

    # reads

    async def list_projects(self) -> list[Project]:
        return await _snapshot.list_projects(self._core)

    async def project_snapshot(
        self, project: str, *, tracers: bool = False, subject_assessors: bool = False
    ) -> ProjectSnapshot:
        """
        Every subject, session, scan, scan resource and assessor of a project, in 3 requests;
        with `tracers`, PET sessions' tracers too, with `subject_assessors` the subjects' own
        assessors (DAX's proc:subjGenProcData): one request more each.
        """
        return await _snapshot.project_snapshot(
            self._core,
            project,
            self._cpu,
            tracers=tracers,
            subject_assessors=subject_assessors,
        )

    async def session_snapshot(self, project: str, session_label: str) -> Session | None:
        """One session by label with its scans and assessors (2 requests), or None."""
        return await _snapshot.session_snapshot(self._core, project, session_label, self._cpu)

    async def session_changes(self, project: str) -> list[SessionChange]:
        """Every image session of the project with its `last_modified`, in 1 request."""
        return await _changes.session_changes(self._core, project)

    # assessors

    async def put_assessor(
        self,
        project: str,
        subject_id: str,
        session_id: str,
        label: str,
        fields: AssessorFields,
    ) -> str:
        """Create or update a `proc:genProcData` assessor with its fields in one PUT; its ID."""
        return await _assessors.put_assessor(
            self._core, project, subject_id, session_id, label, fields
        )

    async def update_assessor(self, session_id: str, assessor: str, fields: AssessorFields) -> str:
        """Set fields of an existing assessor (by ID or label) in one PUT; returns its ID."""
        return await _assessors.update_assessor(self._core, session_id, assessor, fields)

    async def delete_assessor(self, session_id: str, assessor_id: str) -> None:
        await _assessors.delete_assessor(self._core, session_id, assessor_id)

    # workflow entries (what XNAT's History of a session lists)

    async def add_workflow(self, entry: Workflow) -> None:
        """
        Write one workflow entry in one PUT; the same pipeline, experiment, scan and launch time
        again update it. `Forbidden` when the account may not write workflow entries.
        """
        await _workflows.add_workflow(self._core, entry)

    async def list_workflows(
        self, pipeline: str, experiment: str, *, project: str | None = None
    ) -> list[Workflow]:
        """The entries of `pipeline` about one experiment (ID, or label with `project`), in the
        order written, in 1 request."""
        return await _workflows.list_workflows(self._core, pipeline, experiment, project)

    # resources and files

    async def create_resource(
        self, ref: ResourceRef, *, format: str = "", exist_ok: bool = False
    ) -> None:
        await _files.create_resource(self._core, ref, format=format, exist_ok=exist_ok)

    async def delete_resource(self, ref: ResourceRef) -> None:
        """Remove the resource with its files (no error when it does not exist)."""
        await _files.delete_resource(self._core, ref)

    async def list_files(self, ref: ResourceRef) -> list[FileEntry]:
        return await _files.list_files(self._core, ref)

    async def list_output_files(self, session_id: str, assessor_id: str) -> list[FileEntry]:
        """Every file of every output resource of an assessor, in one request."""
        return await _files.list_output_files(self._core, session_id, assessor_id)

    async def upload_file(
        self,
        ref: ResourceRef,
        path: str,
        source: UploadSource,
        *,
        overwrite: bool = False,
        verify: bool = True,
    ) -> FileEntry:
        """Stream `source` to `path` in the resource; verifies the size XNAT lists."""
        return await _files.upload_file(
            self._core, ref, path, source, overwrite=overwrite, verify=verify
        )

    async def upload_zip(
        self,
        ref: ResourceRef,
        source: UploadSource,
        *,
        name: str = "upload.zip",
        extract: bool = True,
        overwrite: bool = False,
        verify: bool = True,
    ) -> list[FileEntry]:
        return await _files.upload_zip(
            self._core,
            ref,
            source,
            name=name,
            extract=extract,
            overwrite=overwrite,
            verify=verify,
        )

    async def download_file(self, ref: ResourceRef, path: str, sink: Sink) -> int:
        """Stream a file into `sink` (an async callable or an anyio byte stream); its size."""
        return await _files.download_file(self._core, ref, path, sink)

    async def download_to_path(self, ref: ResourceRef, path: str, dest: Path) -> int:
        return await _files.download_to_path(self._core, ref, path, dest)

    async def receive_zipped(self, ref: ResourceRef, receive: _zips.Receiver) -> list[FileEntry]:
        """
        Every file of the resource from one zip download, each handed to `receive` (its entry,
        then its bytes) as it is unpacked: one request for the whole resource, streamed, every
        member's CRC checked. Returns the entries in the zip's order.
        """
        return await _zips.receive_zipped(self._core, ref, receive)


def _settings_credentials(settings: XnatSettings) -> Credentials | None:
    if settings.alias and settings.secret is not None:
        return Credentials.alias_token(settings.alias, settings.secret)
    if settings.user and settings.password is not None:
        return Credentials.password(settings.user, settings.password)
    return None


__all__ = ["USER_AGENT", "XnatClient"]
