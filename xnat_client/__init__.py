"""
xnat_client: an async XNAT REST client (and, apart from it, an XNAT-compatible server).

The client reads whole projects in a constant number of requests and writes assessors, resources,
files and workflow entries (XNAT's History). A library on its own: it never imports `aspider` or
`pbs`. The XNAT-compatible server for tests, the demo and `aspider sandbox` is the optional
`xnat_client.sandbox` subpackage (its HTTPS needs the `sandbox` extra); no client module imports
it, so it is not imported here.
"""

from ._assessors import AssessorFields
from ._auth import Credentials
from ._changes import SessionChange
from ._client import USER_AGENT, XnatClient
from ._exceptions import (
    AuthFailed,
    BadResponse,
    ClientClosed,
    Conflict,
    Forbidden,
    InvalidName,
    LoginRequired,
    NotFound,
    Redirected,
    RequestRejected,
    ServerError,
    TlsError,
    Unavailable,
    UnknownHost,
    XnatError,
)
from ._files import Sink, UploadSource
from ._models import (
    PROC_XSI_TYPE,
    SUBJECT_PROC_XSI_TYPE,
    Assessor,
    FileEntry,
    Project,
    ProjectSnapshot,
    Resource,
    Scan,
    Session,
    Subject,
    Workflow,
)
from ._paths import ResourceRef
from ._settings import RetryPolicy, Timeouts, XnatSettings
from ._version import __version__

__all__ = [
    "PROC_XSI_TYPE",
    "SUBJECT_PROC_XSI_TYPE",
    "USER_AGENT",
    "Assessor",
    "AssessorFields",
    "AuthFailed",
    "BadResponse",
    "ClientClosed",
    "Conflict",
    "Credentials",
    "FileEntry",
    "Forbidden",
    "InvalidName",
    "LoginRequired",
    "NotFound",
    "Project",
    "ProjectSnapshot",
    "Redirected",
    "RequestRejected",
    "Resource",
    "ResourceRef",
    "RetryPolicy",
    "Scan",
    "ServerError",
    "Session",
    "SessionChange",
    "Sink",
    "Subject",
    "Timeouts",
    "TlsError",
    "Unavailable",
    "UnknownHost",
    "UploadSource",
    "Workflow",
    "XnatClient",
    "XnatError",
    "XnatSettings",
    "__version__",
]
