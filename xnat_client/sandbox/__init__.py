"""
The XNAT-compatible server for tests, the demo and `aspider sandbox` (and the benchmarks).

An optional part of the distribution, apart from the client: no client module imports it, and
it imports nothing from the client's private modules (import-linter holds both). Its only own
dependency, trustme (a certificate made at start, for HTTPS), comes with the `sandbox` extra:
`pip install 'aspider-xnat[sandbox]'`.

It serves, from memory, the REST subset our client, pyxnat and dax use, with real XNAT's
shapes, codes and quirks (docs/xnat-api.md lists every endpoint and the source of its shape):

    server = XnatServer()
    generate_project(server, "DEMO", sessions=20, seed=1)
    transport = httpx.ASGITransport(app=server.app)        # in-process
    async with serve_tcp(server) as base_url: ...           # or over TCP on 127.0.0.1
    tls = make_tls_identity(directory)                       # or over HTTPS: trust tls.ca_file
    async with serve_tcp(server, ssl=tls.context) as base_url: ...

Its stored objects are named `Stored*` (`StoredSession`, `StoredAssessor`, ...), apart from the
client's models of the same things (`xnat_client.Session`, `xnat_client.Assessor`, ...).
"""

from xnat_client.sandbox._app import XnatServer
from xnat_client.sandbox._auth import Sessions
from xnat_client.sandbox._faults import DroppedConnection, Faults, LoggedRequest
from xnat_client.sandbox._store import (
    Store,
    StoredAssessor,
    StoredProject,
    StoredResource,
    StoredScan,
    StoredSession,
    StoredSubject,
)
from xnat_client.sandbox._synthetic import PROCSTATUSES, SCAN_KINDS, generate_project
from xnat_client.sandbox._tcp import serve_tcp
from xnat_client.sandbox._tls import TlsIdentity, make_tls_identity

__all__ = [
    "PROCSTATUSES",
    "SCAN_KINDS",
    "DroppedConnection",
    "Faults",
    "LoggedRequest",
    "Sessions",
    "Store",
    "StoredAssessor",
    "StoredProject",
    "StoredResource",
    "StoredScan",
    "StoredSession",
    "StoredSubject",
    "TlsIdentity",
    "XnatServer",
    "generate_project",
    "make_tls_identity",
    "serve_tcp",
]
