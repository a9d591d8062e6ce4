"""
An XNAT-compatible server for tests, benchmarks and the `aspider sandbox` demo.

It serves, from memory, the REST subset our client, pyxnat and dax use, with real XNAT's
shapes, codes and quirks (docs/xnat-api.md lists every endpoint and the source of its shape):

    server = XnatServer()
    generate_project(server, "DEMO", sessions=20, seed=1)
    transport = httpx.ASGITransport(app=server.app)        # in-process
    async with serve_tcp(server) as base_url: ...           # or over TCP on 127.0.0.1
    tls = make_tls_identity(directory)                       # or over HTTPS: trust tls.ca_file
    async with serve_tcp(server, ssl=tls.context) as base_url: ...
"""

from xnat_client.server._app import XnatServer
from xnat_client.server._auth import Sessions
from xnat_client.server._faults import DroppedConnection, Faults, LoggedRequest
from xnat_client.server._store import (
    Assessor,
    Project,
    Resource,
    Scan,
    Session,
    Store,
    Subject,
)
from xnat_client.server._synthetic import PROCSTATUSES, SCAN_KINDS, generate_project
from xnat_client.server._tcp import serve_tcp
from xnat_client.server._tls import TlsIdentity, make_tls_identity

__all__ = [
    "PROCSTATUSES",
    "SCAN_KINDS",
    "Assessor",
    "DroppedConnection",
    "Faults",
    "LoggedRequest",
    "Project",
    "Resource",
    "Scan",
    "Session",
    "Sessions",
    "Store",
    "Subject",
    "TlsIdentity",
    "XnatServer",
    "generate_project",
    "make_tls_identity",
    "serve_tcp",
]
