"""
The service's HTTP face (Starlette): events in, status out.

    POST /api/v1/projects/{project}/sessions/{session}   sweep that session soon (202)
    POST /api/v1/projects/{project}/subjects/{subject}   sweep that subject's sessions soon
    POST /api/v1/projects/{project}                      a full sweep of the project soon
    GET  /                                               the status page (HTML)
    GET  /api/v1/status[?project=P]                      the same as JSON
    GET  /healthz                                        200 while the service runs
    GET  /metrics                                        Prometheus text format

A POST is checked in this order, and each refusal changes nothing: the names in the path are
XNAT labels (400), the bearer token (401), the project is configured (404), the body is within
`serve.max_body` bytes (413). Its body is otherwise ignored: the path says what changed.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from aspider.serve import service_log
from aspider.serve.auth import authorized
from aspider.serve.labels import is_xnat_label
from aspider.serve.metrics import CONTENT_TYPE
from aspider.serve.page import Page, render_page
from aspider.serve.service import Service

Target = Literal["session", "subject", "project"]
_REFRESH = 30  # seconds between reloads of the page in a browser


def build_app(service: Service, token: SecretStr | None, max_body: int) -> Starlette:
    """The ASGI app over a running `Service`."""
    events = _Events(service, token, max_body)
    routes = [
        Route("/", partial(_page, service), methods=["GET"]),
        Route("/healthz", partial(_health, service), methods=["GET"]),
        Route("/metrics", partial(_metrics, service), methods=["GET"]),
        Route("/api/v1/status", partial(_status, service), methods=["GET"]),
        Route("/api/v1/projects/{project}/sessions/{name}", events.session, methods=["POST"]),
        Route("/api/v1/projects/{project}/subjects/{name}", events.subject, methods=["POST"]),
        Route("/api/v1/projects/{project}", events.project, methods=["POST"]),
    ]
    return Starlette(routes=routes)


async def _page(service: Service, request: Request) -> Response:
    page = Page(service.page_info(), service.statuses(), refresh=_REFRESH)
    return HTMLResponse(render_page(page), headers={"Cache-Control": "no-store"})


async def _health(service: Service, request: Request) -> Response:
    if service.stopping or service.finished:
        return JSONResponse({"status": "stopping"}, status_code=503)
    return JSONResponse({"status": "ok"})


async def _metrics(service: Service, request: Request) -> Response:
    return Response(service.metrics.exposition(), media_type=CONTENT_TYPE)


async def _status(service: Service, request: Request) -> Response:
    only = request.query_params.get("project")
    if only is not None and not is_xnat_label(only):
        return _error(400, "project is not an XNAT ID")
    statuses = [s.to_json() for s in service.statuses(only)]
    return JSONResponse({"service": service.summary(), "projects": statuses})


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


class _Events:
    """The POST endpoints: check, then leave word with the project's worker."""

    def __init__(self, service: Service, token: SecretStr | None, max_body: int) -> None:
        self._service, self._token, self._max_body = service, token, max_body

    async def session(self, request: Request) -> Response:
        return await self._take(request, "session")

    async def subject(self, request: Request) -> Response:
        return await self._take(request, "subject")

    async def project(self, request: Request) -> Response:
        return await self._take(request, "project")

    async def _take(self, request: Request, target: Target) -> Response:
        project = request.path_params["project"]
        name = request.path_params.get("name", project)
        refused = await self._refusal(request, project, name)
        if refused is not None:
            reason, status, message = refused
            self._service.metrics.refused.labels(reason).inc()
            service_log.event_refused(project, target, name, reason, status, message)
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return JSONResponse({"error": message}, status_code=status, headers=headers)
        worker = self._service.worker(project)
        assert worker is not None  # checked by _refusal
        if target == "project":
            worker.request_full()
        else:
            worker.hint(name, subject=target == "subject")
        self._service.metrics.events.labels("post").inc()
        service_log.event_received(project, target, name)
        body = {
            "accepted": True,
            "project": project,
            target: name,
            "status": f"/api/v1/status?project={project}",
            "page": f"/#project-{project}",
        }
        return JSONResponse(body, status_code=202)

    async def _refusal(
        self, request: Request, project: str, name: str
    ) -> tuple[str, int, str] | None:
        """(metric reason, HTTP status, message) of the first check that fails, or None."""
        if not (is_xnat_label(project) and is_xnat_label(name)):
            return "label", 400, "names must be XNAT IDs or labels: [A-Za-z0-9_-], 1-255 long"
        if self._service.stopping:
            return "stopping", 503, "the service is stopping"
        if not authorized(self._token, request.headers.get("authorization")):
            return "auth", 401, "a valid bearer token is required"
        if self._service.worker(project) is None:
            return "project", 404, "project is not configured in this service"
        if not await self._body_fits(request):
            return "body", 413, f"the body must be at most {self._max_body} bytes"
        return None

    async def _body_fits(self, request: Request) -> bool:
        """Read the body up to the limit; a larger one (declared or sent) is refused."""
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._max_body):
            return False
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > self._max_body:
                return False
        return True
