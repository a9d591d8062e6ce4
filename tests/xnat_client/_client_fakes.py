"""A scripted XNAT for the client's unit tests: real login semantics, per-test answers."""

from __future__ import annotations

import base64
import csv
import io
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from xnat_client import Credentials, RetryPolicy, XnatClient

URL = "http://xnat.test"
USER = "admin"
PASSWORD = "pw-Sup3r-s3cret"
FAST_RETRY = RetryPolicy(attempts=4, backoff_initial=0.001, backoff_max=0.002, budget=5.0)

Responder = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]

RESTLET_404 = (
    "<html>\n<head>\n   <title>Status page</title>\n</head>\n<body>\n"
    "<h3>Unable to find the specified experiment.</h3><p>You can get technical details "
    '<a href="http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.5">here</a>.'
    "<br>\n</p>\n</body>\n</html>\n"
)


def session_cookie(request: httpx.Request) -> str:
    """The JSESSIONID the request carries ("" if none)."""
    for part in request.headers.get("Cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "JSESSIONID":
            return value
    return ""


def listing(rows: list[dict[str, Any]]) -> httpx.Response:
    """A `ResultSet` envelope as XNAT writes it (every value a string)."""
    body = {"ResultSet": {"Result": rows, "totalRecords": str(len(rows))}}
    return httpx.Response(200, json=body)


def csv_listing(rows: list[dict[str, str]], columns: str = "") -> httpx.Response:
    """A `format=csv` listing as XNAT writes it: header row first, `\\n` line ends."""
    header = columns.split(",") if columns else []
    for row in rows:
        header.extend(k for k in row if k not in header)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([row.get(h, "") for h in header] for row in rows)
    return httpx.Response(200, text=buffer.getvalue(), headers={"Content-Type": "text/csv"})


class FakeXnat:
    """Logs in like XNAT (POST /data/JSESSION + Basic, then the cookie); the rest is `respond`."""

    def __init__(
        self, respond: Responder | None = None, secret: str = PASSWORD, user: str = USER
    ) -> None:
        self.respond: Responder = respond or (lambda _r: httpx.Response(404, text=RESTLET_404))
        self.secret = secret
        self.user = user
        self.sessions: set[str] = set()
        self.requests: list[httpx.Request] = []
        self.bodies: list[bytes] = []
        self.logins = 0
        self.logouts = 0
        self._ids = itertools.count(1)

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def data_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/data/JSESSION"]

    async def handler(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(await request.aread())
        self.requests.append(request)
        if request.url.path == "/data/JSESSION":
            return self._session_endpoint(request)
        if session_cookie(request) not in self.sessions:
            return httpx.Response(
                401, headers={"WWW-Authenticate": 'Basic realm="XNAT"'}, text="<html>401</html>"
            )
        answer = self.respond(request)
        if isinstance(answer, httpx.Response):
            return answer
        return await answer

    def _session_endpoint(self, request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            self.sessions.discard(session_cookie(request))
            self.logouts += 1
            return httpx.Response(200)
        expected = base64.b64encode(f"{self.user}:{self.secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return httpx.Response(401, text="<!doctype html><title>HTTP Status 401</title>")
        self.logins += 1
        session = f"{next(self._ids):032X}"
        self.sessions.add(session)
        return httpx.Response(
            200, text=session, headers={"Set-Cookie": f"JSESSIONID={session}; Path=/; HttpOnly"}
        )


def client_for(fake: FakeXnat, **kwargs: Any) -> XnatClient:
    kwargs.setdefault("credentials", Credentials.password(USER, PASSWORD))
    kwargs.setdefault("retry", FAST_RETRY)
    return XnatClient(URL, transport=httpx.MockTransport(fake.handler), **kwargs)
