"""
The one exception tree of the XNAT client.

Every failure a caller can act on has its own class; httpx's exceptions never leave the package
(they are translated once, in `_http.py`, with `raise ... from exc`).

    XnatError                      anything that went wrong talking to XNAT
    ├── InvalidName (ValueError)   a label, ID or file path that cannot be addressed safely;
    │                              raised before any request is sent
    ├── ClientClosed (RuntimeError) the client was used after `aclose()`
    ├── AuthFailed                 401: bad credentials, or still refused after one re-login
    │   └── LoginRequired          XNAT's login page (200, HTML) instead of the API's answer,
    │                              still there after one re-login, or no credentials to log in
    ├── Forbidden                  403: authenticated, but not allowed
    ├── NotFound                   404: no such object, or not visible to this account
    ├── Conflict                   409, or an upload that XNAT reported as a duplicate
    ├── RequestRejected            any other 4xx (400, 417, 422, ...)
    ├── ServerError                500 and other 5xx that are not about availability
    ├── Unavailable                no usable answer: connection errors, timeouts, 502/503/504,
    │                              after the retries allowed by the retry policy
    ├── TlsError                   the TLS handshake failed (certificate not trusted, wrong name,
    │                              not TLS at all); never retried
    ├── UnknownHost                the URL's host name does not resolve; never retried
    ├── Redirected                 a 3xx that is not followed (see `_http`); `location` says where
    └── BadResponse                a 2xx whose body is not what XNAT sends (an HTML page, bad
                                   JSON, a listing without `ResultSet`, a size that disagrees)

Each carries `method`, `path` (no query string, no credentials), `status` (None when no response
arrived) and `excerpt`, a short piece of the body (an HTML error page reduced to its <h3> text).
"""

from __future__ import annotations


class XnatError(Exception):
    """Base of every error raised by the client."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        excerpt: str = "",
    ) -> None:
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.excerpt = excerpt
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.method} {self.path}".strip()
        status = f" -> {self.status}" if self.status is not None else ""
        excerpt = f" ({self.excerpt})" if self.excerpt else ""
        prefix = f"{where}{status}: " if where else ""
        return f"{prefix}{self.message}{excerpt}"


class InvalidName(XnatError, ValueError):
    """A name that would change the meaning of a URL path (a `/`, `..`, an empty segment)."""


class ClientClosed(XnatError, RuntimeError):
    """The client was closed; create a new one."""


class AuthFailed(XnatError):
    """XNAT refused the credentials (401), even after one transparent re-login."""


class LoginRequired(AuthFailed):
    """
    XNAT (or a proxy in front of it) answered with its login page, status 200, where the API's
    answer was due: the session was lost and one re-login did not bring it back, or the client
    has no credentials to log in with.
    """


class Forbidden(XnatError):
    """Authenticated, but the account may not do this (403)."""


class NotFound(XnatError):
    """No such object, or not visible to this account (XNAT answers 404 for both)."""


class Conflict(XnatError):
    """The object already exists (409), or XNAT kept an existing file instead of the upload."""


class RequestRejected(XnatError):
    """XNAT rejected the request itself (a 4xx other than 401, 403, 404 and 409)."""


class ServerError(XnatError):
    """XNAT failed while handling the request (500 and unclassified 5xx)."""


class Unavailable(XnatError):
    """No usable answer in time: connection errors, timeouts, 502/503/504 after retries."""


class TlsError(XnatError):
    """The TLS handshake failed; retrying cannot help, a setting (`ca_bundle`, the URL) can."""


class UnknownHost(XnatError):
    """The host name does not resolve: a typo in the URL, not an outage, so never retried."""


class Redirected(XnatError):
    """
    XNAT answered with a redirect that the client does not follow; `location` is where to.

    Only a GET sent over http and redirected to https on the same host is followed (once);
    anything else usually means the configured URL is not XNAT's own: fix the URL.
    """

    def __init__(
        self, message: str, *, location: str, method: str = "", path: str = "", status: int = 0
    ) -> None:
        self.location = location
        super().__init__(message, method=method, path=path, status=status)


class BadResponse(XnatError):
    """A success status with a body XNAT would not send: HTML, malformed JSON, wrong shape."""


__all__ = [
    "AuthFailed",
    "BadResponse",
    "ClientClosed",
    "Conflict",
    "Forbidden",
    "InvalidName",
    "LoginRequired",
    "NotFound",
    "Redirected",
    "RequestRejected",
    "ServerError",
    "TlsError",
    "Unavailable",
    "XnatError",
]
