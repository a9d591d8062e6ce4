"""
Error answers in the two shapes XNAT produces.

Restlet (most `/data` errors) writes its 1.1 status page with the description in `<h3>`;
pyxnat and xnatpy read that `<h3>`. Spring/Tomcat answers 401s for missing or bad credentials
with its own page and a `WWW-Authenticate` challenge (xnat-rest.md 6.2, 1.3).
"""

from __future__ import annotations

from html import escape
from http import HTTPStatus

from starlette.responses import Response

REALM = "XNAT"

_ANCHORS = {
    400: "sec10.4.1",
    401: "sec10.4.2",
    403: "sec10.4.4",
    404: "sec10.4.5",
    405: "sec10.4.6",
    409: "sec10.4.10",
    417: "sec10.4.18",
    422: "sec10.4",
    500: "sec10.5.1",
    502: "sec10.5.3",
    503: "sec10.5.4",
}
_DEFAULTS = {
    401: "The request requires user authentication",
    404: "The server has not found anything matching the request URI",
    405: (
        "The method specified in the request is not allowed for the resource identified "
        "by the request URI"
    ),
    500: (
        "The server encountered an unexpected condition which prevented it from "
        "fulfilling the request"
    ),
}


class HttpError(Exception):
    """Raised by a handler to answer with a Restlet status page."""

    def __init__(self, status: int, description: str = "") -> None:
        super().__init__(status, description)
        self.status = status
        self.description = description


def status_page(status: int, description: str = "") -> Response:
    """Restlet 1.1's HTML status page."""
    text = description or _DEFAULTS.get(status) or HTTPStatus(status).phrase
    anchor = _ANCHORS.get(status, "sec10")
    body = (
        "<html>\n<head>\n   <title>Status page</title>\n</head>\n<body>\n"
        f"<h3>{escape(text)}</h3><p>You can get technical details "
        f'<a href="http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#{anchor}">here</a>.<br>\n'
        'Please continue your visit at our <a href="/">home page</a>.\n</p>\n</body>\n</html>\n'
    )
    return Response(body, status_code=status, media_type="text/html")


def unauthorized(message: str = "") -> Response:
    """Spring Security's 401 for a data path and a script user agent."""
    title = "HTTP Status 401 – Unauthorized"
    detail = escape(message or "Full authentication is required to access this resource")
    body = (
        f'<!doctype html><html lang="en"><head><title>{title}</title></head>'
        f"<body><h1>{title}</h1><hr/><p><b>Type</b> Status Report</p>"
        f"<p><b>Message</b> {detail}</p></body></html>"
    )
    return Response(
        body,
        status_code=401,
        media_type="text/html",
        headers={"WWW-Authenticate": f'Basic realm="{REALM}"'},
    )
