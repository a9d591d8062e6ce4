"""
Turning an HTTP answer into either a body or one of our exceptions.

XNAT reports errors as Restlet status pages (the message is in `<h3>`) or Tomcat pages (the
message is in `<title>`); both are reduced to that one line, so exception messages stay short.
Known secrets are masked in anything taken from a body, in case a proxy echoes a header back.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

import httpx

from ._exceptions import (
    AuthFailed,
    BadResponse,
    Conflict,
    Forbidden,
    NotFound,
    Redirected,
    RequestRejected,
    ServerError,
    Unavailable,
    XnatError,
)

EXCERPT_CHARS = 200


def body_text(response: httpx.Response) -> str:
    """
    The body as text: UTF-8 unless the answer names another charset.

    httpx's `text` parses the Content-Type header with the email package on every call, a
    few percent of the client's CPU on short answers; XNAT's plain answers name UTF-8 or
    nothing, and those are decoded directly.
    """
    kind = response.headers.get("content-type", "").lower()
    if "charset" not in kind or "charset=utf-8" in kind.replace(" ", ""):
        return response.content.decode("utf-8", "replace")
    return response.text


UNAVAILABLE_STATUSES = frozenset({502, 503, 504})

_H3 = re.compile(r"<h3[^>]*>(.*?)</h3>", re.IGNORECASE | re.DOTALL)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")

_BY_STATUS: dict[int, type[XnatError]] = {
    401: AuthFailed,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}


_PASSWORD_FIELD = re.compile(rb"<input[^>]*type\s*=\s*[\"']?password", re.IGNORECASE)


def is_html(response: httpx.Response) -> bool:
    kind: str = response.headers.get("content-type", "")
    return kind.lower().startswith("text/html")


def is_login_page(response: httpx.Response) -> bool:
    """
    A 200 that is a login form (an HTML page with a password field), already read.

    XNAT's API never answers with such a page; a proxy or XNAT's own web layer does, when the
    session behind the request is gone.
    """
    if response.status_code != 200 or not is_html(response):
        return False
    content: bytes
    try:
        content = response.content
    except httpx.ResponseNotRead:
        return False
    return _PASSWORD_FIELD.search(content[:65536]) is not None


def redirect_error(method: str, path: str, response: httpx.Response) -> Redirected:
    """A redirect that is not followed, naming where it points."""
    location = response.headers.get("location", "")
    return Redirected(
        f"XNAT redirects to {location or '(no Location)'}; set the XNAT URL to the address "
        "XNAT answers at (its https URL, with its context path)",
        location=location,
        method=method,
        path=path,
        status=response.status_code,
    )


def looks_like_html(text: str) -> bool:
    """XNAT never answers an API call with a page; a page means a proxy or a login redirect."""
    head = text.lstrip()[:15].lower()
    return head.startswith(("<!doctype", "<html"))


def excerpt(text: str, secrets: Iterable[str] = ()) -> str:
    """One short line from a body: the <h3> or <title> of a page, else its start."""
    if looks_like_html(text) or "<h3" in text.lower():
        found = _H3.search(text) or _TITLE.search(text)
        text = found.group(1) if found else _TAGS.sub(" ", text)
        text = html.unescape(_TAGS.sub(" ", text))
    line = _SPACE.sub(" ", text).strip()
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    if len(line) > EXCERPT_CHARS:
        line = line[: EXCERPT_CHARS - 3] + "..."
    return line


def error_class(status: int) -> type[XnatError]:
    """The exception for a non-2xx status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status in UNAVAILABLE_STATUSES:
        return Unavailable
    if status >= 500:
        return ServerError
    if 400 <= status < 500:
        return RequestRejected
    return BadResponse  # 1xx, and 3xx that reached here without a Location


def error_for(
    method: str, path: str, status: int, body: str, secrets: Iterable[str] = ()
) -> XnatError:
    """Build the typed exception for a failed answer."""
    cls = error_class(status)
    message = _MESSAGES.get(cls, "XNAT refused the request")
    return cls(message, method=method, path=path, status=status, excerpt=excerpt(body, secrets))


_MESSAGES: dict[type[XnatError], str] = {
    AuthFailed: "XNAT refused the credentials",
    Forbidden: "the account may not do this",
    NotFound: "no such object (or not visible to this account)",
    Conflict: "the object already exists",
    Unavailable: "XNAT is unavailable",
    ServerError: "XNAT failed while handling the request",
    BadResponse: "unexpected answer",
}
