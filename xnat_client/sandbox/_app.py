"""
`XnatServer`: the store, the users, the knobs, and the ASGI callable that serves them.

One request goes: log and fault draw -> latency -> authentication (Basic or JSESSIONID) ->
site endpoints or the `/data` grammar -> a handler, whose `HttpError` becomes a Restlet status
page. `/REST/...` and `/data/archive/...` are folded onto `/data/...` first.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from xnat_client.sandbox import _routes_files as files
from xnat_client.sandbox import _routes_listings as listings
from xnat_client.sandbox import _routes_objects as objects
from xnat_client.sandbox import _routes_site as site
from xnat_client.sandbox import _search as search
from xnat_client.sandbox import _workflows as workflows
from xnat_client.sandbox._auth import LOGIN_FAILED, Identity, Sessions
from xnat_client.sandbox._call import Call
from xnat_client.sandbox._errors import HttpError, status_page, unauthorized
from xnat_client.sandbox._faults import DroppedConnection, Fault, Faults, LoggedRequest
from xnat_client.sandbox._paths import canonical_path, parse
from xnat_client.sandbox._store import Store

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[Call], Awaitable[Response]]

_ROUTES: dict[str, dict[str, Handler]] = {
    "GET": {
        "projects": listings.projects,
        "project": objects.get_project,
        "subjects": listings.subjects,
        "subject": objects.get_subject,
        "experiments": listings.experiments,
        "experiment": objects.get_experiment,
        "scans": listings.scans,
        "scan": objects.get_scan,
        "assessors": listings.assessors,
        "assessor": objects.get_assessor,
        "resources": files.list_resources,
        "resource": files.get_resource,
        "files": files.list_files,
        "file": files.download,
    },
    "PUT": {
        "project": objects.put_project,
        "subject": objects.put_subject,
        "experiment": objects.put_experiment,
        "scan": objects.put_scan,
        "assessor": objects.put_assessor,
        "resource": files.put_resource,
        "file": files.upload,
        "share": objects.share_experiment,
    },
    "POST": {"resource": files.put_resource, "file": files.upload, "files": files.upload},
    "DELETE": {
        "subject": objects.delete_subject,
        "experiment": objects.delete_experiment,
        "scan": objects.delete_scan,
        "assessor": objects.delete_experiment,
        "resource": files.delete_resource,
        "file": files.delete_file,
    },
}
_WORKFLOW_PATH = re.compile(r"^/data/(services/)?workflows(?:/([^/]+))?/?$")
_BROWSER = re.compile(r"MSIE|Mozilla|AppleWebKit|Opera")
_HOME = "<html><head><title>XNAT</title></head><body><p>XNAT</p></body></html>"
_LOGIN_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>XNAT</title></head><body>"
    '<form name="form1" method="post" action="/login">'
    '<input type="text" name="username" id="username">'
    '<input type="password" name="password" id="password">'
    '<input type="submit" value="Login"></form></body></html>'
)


class XnatServer:
    """An XNAT-compatible server holding its archive in memory.

    Args:
        store: the archive to serve; a new empty one by default.
        users: login -> password; `{"admin": "admin"}` by default.
        latency: seconds added before every answer.
        session_timeout: idle seconds before a JSESSIONID expires.
        raw_empty_headers: head an empty experiment or assessor listing by its SQL column
            aliases (no `ID`, no `URI`), as XNAT does: it renames columns only when rows
            exist. Off, every listing has the renamed header.
        faults: fault rates and their seed (`Faults(error_rate=0.05, seed=1)`); none by
            default. `server.faults` can be changed while serving.
        site_admins: users who may change any workflow entry (others only their own).
        workflow_writers: users who may write workflow entries at all; None: everyone.
            The others get XNAT's 403, as an account a site keeps from writing them would.

    `login_page = True` answers an API request without a live session with the web login
    page and status 200 instead of 401, as some proxies in front of XNAT do.
    """

    def __init__(
        self,
        store: Store | None = None,
        users: dict[str, str] | None = None,
        latency: float = 0.0,
        session_timeout: float = 900.0,
        raw_empty_headers: bool = True,
        faults: Faults | None = None,
        site_admins: frozenset[str] = frozenset({"admin"}),
        workflow_writers: frozenset[str] | None = None,
    ) -> None:
        self.store = store or Store()
        self.sessions = Sessions(users or {"admin": "admin"}, session_timeout)
        self.latency = latency
        self.raw_empty_headers = raw_empty_headers
        self.faults = faults or Faults()
        self.requests: list[LoggedRequest] = []
        self.login_page = False
        self.site_admins = site_admins
        self.workflow_writers = workflow_writers

    @property
    def app(self) -> XnatServer:
        """The ASGI callable (the server itself)."""
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        status = 0

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        fault = self.faults.draw(scope["path"])
        try:
            if self.latency > 0:
                await anyio.sleep(self.latency)
            if fault is not None:
                response = await self._fault(fault, recording_send)
            else:
                response = await self._handle(Request(scope, receive))
            await response(scope, receive, recording_send)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            peer = scope.get("client")
            client = f"{peer[0]}:{peer[1]}" if peer else ""
            kind = fault.kind if fault is not None else ""
            self.requests.append(
                LoggedRequest(scope["method"], scope["path"], query, status, kind, client)
            )

    async def _fault(self, fault: Fault, send: Send) -> Response:
        if fault.kind == "timeout":
            await anyio.sleep(self.faults.hang_seconds)
            return status_page(504, "Gateway Timeout")
        if fault.kind == "drop":
            headers = [(b"content-type", b"text/plain"), (b"content-length", b"100")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            raise DroppedConnection("connection dropped by fault injection")
        return status_page(fault.status)

    async def _handle(self, request: Request) -> Response:
        identity = self.sessions.identify(
            request.headers.get("authorization"), request.cookies.get("JSESSIONID")
        )
        if identity.failed:
            return unauthorized(LOGIN_FAILED)
        response = await self._route(request, canonical_path(request.scope["path"]), identity)
        if identity.new_session:
            response.set_cookie("JSESSIONID", identity.new_session, path="/", httponly=True)
        now_ms = int(time.time() * 1000)
        timeout_ms = int(self.sessions.timeout * 1000)
        # Tomcat quotes this value (it holds a comma); xnatpy parses `^"(\d+),(\d+)"$`.
        expiry = f'SESSION_EXPIRATION_TIME="{now_ms},{timeout_ms}"; Path=/'
        response.headers.append("set-cookie", expiry)
        return response

    async def _route(self, request: Request, path: str, who: Identity) -> Response:
        if path == "/data/services/auth":
            return await self._form_login(request)
        if path.startswith("/xapi/siteConfig/buildInfo"):
            return site.build_info()
        if not path.startswith(("/data", "/xapi")):
            return Response(_HOME, media_type="text/html") if path == "/" else status_page(404)
        if who.user is None:
            if _BROWSER.search(request.headers.get("user-agent", "")):
                return RedirectResponse("/app/template/Login.vm", status_code=302)
            if self.login_page:
                return Response(_LOGIN_PAGE, media_type="text/html")
            return unauthorized()
        if path == "/data/JSESSION":
            return self._jsession(request, who)
        if request.method == "HEAD":
            return _headers_only(await self._data(request, path, who.user, "GET"))
        return await self._data(request, path, who.user, request.method)

    async def _form_login(self, request: Request) -> Response:
        if request.method not in ("PUT", "POST"):
            return status_page(405)
        response, token = await site.services_auth(request, self.sessions)
        if token:
            response.set_cookie("JSESSIONID", token, path="/", httponly=True)
        return response

    def _jsession(self, request: Request, who: Identity) -> Response:
        cookie = request.cookies.get("JSESSIONID")
        if request.method == "DELETE":
            self.sessions.close(cookie)
            self.sessions.close(who.new_session)
            return site.text("")
        if request.method not in ("GET", "POST"):
            return status_page(405)
        return site.jsession(who.new_session or cookie or self.sessions.open(who.user or ""))

    async def _data(self, request: Request, path: str, user: str, method: str) -> Response:
        fmt = request.query_params.get("format", "json").lower()
        if path == "/data/auth":
            return site.auth_status(user)
        if path == "/xapi/schemas":
            return site.schema_list()
        if path.startswith("/xapi/schemas/"):
            return site.schema(path) or status_page(404)
        if path == "/data/search/elements":
            return site.search_elements(self.store, fmt)
        if path.startswith("/data/search/elements/"):
            return search.element_field_rows(self.store, path.rsplit("/", 1)[-1], fmt)
        if path == "/data/search":
            return await self._search(request, method, fmt)
        if path.startswith(("/data/workflows", "/data/services/workflows")):
            return await self._workflows(request, path, user, method)
        target = parse(path) if path.startswith("/data/") else None
        if target is None:
            return status_page(404)
        handler = _ROUTES.get(method, {}).get(target.kind)
        if handler is None:
            return status_page(405)
        try:
            return await handler(Call(request, target, self.store, user, self.raw_empty_headers))
        except HttpError as exc:
            return status_page(exc.status, exc.description)

    async def _workflows(self, request: Request, path: str, user: str, method: str) -> Response:
        """`/data/workflows[/{id}]` (GET, PUT) and `/data/services/workflows[/{pipeline}]`."""
        found = _WORKFLOW_PATH.match(path)
        if found is None:
            return status_page(404)
        service, key = found.group(1) is not None, found.group(2)
        try:
            if service:
                if method != "GET":
                    return status_page(405)
                return workflows.services_listing(request, self.store, key)
            if method == "GET":
                return workflows.get_workflow(request, self.store, key)
            if method != "PUT":
                return status_page(405)
            writers = self.workflow_writers
            return await workflows.put_workflow(
                request,
                self.store,
                user,
                key,
                may_write=writers is None or user in writers,
                admin=user in self.site_admins,
            )
        except HttpError as exc:
            return status_page(exc.status, exc.description)

    async def _search(self, request: Request, method: str, fmt: str) -> Response:
        if method != "POST":
            return status_page(405)
        content_type = request.headers.get("content-type", "")
        try:
            bundle = search.parse_bundle(await request.body(), content_type)
            return search.search(self.store, bundle, fmt)
        except HttpError as exc:
            return status_page(exc.status, exc.description)


def _headers_only(response: Response) -> Response:
    """The answer to HEAD: GET's status and headers (Content-Length included), no body."""
    if isinstance(response, StreamingResponse):
        return Response(b"", response.status_code, media_type=response.media_type)
    headers = dict(response.headers)
    return Response(b"", response.status_code, headers=headers)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
