"""
One request and its answer: the login flow driven around it, the one redirect that is
followed, and httpx's exceptions translated into ours.

The flow is driven here rather than by `httpx.AsyncClient`, whose cookie jar, URL merging
and redirect machinery on every request cost more CPU than the transport itself
(docs/benchmarks.md, "HTTP transport"); `SessionAuth` is an `httpx.Auth` all the same.

Redirects: XNAT's API does not redirect. A GET sent over http that comes back redirected to
https on the same host (nginx in front of XNAT upgrading the scheme) is followed once, with a
warning to fix the URL; every other redirect raises `Redirected` naming its Location, since
following it could send the session cookie, or a write, somewhere the user did not name.
"""

from __future__ import annotations

import logging
import socket
import ssl

import httpx

from ._auth import SessionAuth
from ._exceptions import TlsError, Unavailable, UnknownHost, XnatError
from ._responses import is_html, redirect_error

log = logging.getLogger("xnat_client")


class Exchange:
    """Sends requests through the login flow over one transport."""

    def __init__(
        self, transport: httpx.AsyncBaseTransport, auth: SessionAuth, base: httpx.URL
    ) -> None:
        self.transport = transport
        self.base = base
        self.auth = auth
        self._warned = False

    async def send(self, request: httpx.Request, html_expected: bool) -> httpx.Response:
        """The final answer to `request` (body unread unless it may be a login page)."""
        response = await self._logged_in(request, html_expected)
        if not response.is_redirect:
            return response
        await response.aclose()
        target = _upgrade(request, response)
        if target is None:
            raise redirect_error(request.method, request.url.path, response)
        self._warn(request.url, target)
        headers = {k: v for k, v in request.headers.items() if k not in ("host", "cookie")}
        again = httpx.Request("GET", target, headers=headers, extensions=request.extensions)
        followed = await self._logged_in(again, html_expected)
        if followed.is_redirect:
            await followed.aclose()
            raise redirect_error(request.method, request.url.path, followed)
        return followed

    async def _logged_in(self, request: httpx.Request, html_expected: bool) -> httpx.Response:
        """Run the session login flow (`SessionAuth`) around one request, as httpx would."""
        flow = self.auth.flow(request, login_pages=not html_expected)
        try:
            request = await flow.__anext__()
            while True:
                response = await self.transport.handle_async_request(request)
                response.request = request
                if _for_the_flow(response, html_expected):
                    await read_or_close(response)
                try:
                    request = await flow.asend(response)
                except StopAsyncIteration:
                    return response
                except BaseException:
                    await response.aclose()
                    raise
                await response.aclose()
        finally:
            await flow.aclose()  # a flow left waiting would keep holding the login lock

    def _warn(self, sent: httpx.URL, target: httpx.URL) -> None:
        if self._warned:
            log.debug("GET %s redirected to %s; followed", sent.path, target)
            return
        self._warned = True
        base = self.base.copy_with(scheme="https", port=target.port)
        log.warning(
            "XNAT redirected GET %s from http to %s; followed, at the cost of a second request "
            "each time (writes and the login are never followed): set the XNAT URL to %s",
            sent.path,
            target,
            str(base).rstrip("/"),
        )


def _for_the_flow(response: httpx.Response, html_expected: bool) -> bool:
    """
    An answer the login flow may act on, to be read (and its connection freed) first: a 401,
    or an HTML page that may be the login page. The flow may wait for another request's
    login while it holds the answer; an unread answer would keep its place in `Wire`, and
    with every place so held the login could never be sent.
    """
    if response.status_code == 401:
        return True
    return not html_expected and response.status_code == 200 and is_html(response)


def _upgrade(request: httpx.Request, response: httpx.Response) -> httpx.URL | None:
    """The https URL of a GET redirected from http on the same host; None for any other."""
    location = response.headers.get("location")
    if request.method != "GET" or not location:
        return None
    target = request.url.join(location)
    same_host = target.host == request.url.host
    if request.url.scheme == "http" and target.scheme == "https" and same_host:
        return target
    return None


async def read_or_close(response: httpx.Response) -> None:
    """httpx leaves a half-read response open on failure or cancellation; close it here."""
    try:
        await response.aread()
    except BaseException:
        await response.aclose()
        raise


def translate(
    method: str, path: str, exc: httpx.HTTPError, secrets: list[str], host: str
) -> XnatError:
    """The boundary: httpx's exceptions become ours (transport failures -> Unavailable)."""
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    for secret in secrets:
        detail = detail.replace(secret, "***")
    tls = _tls_cause(exc)
    if tls is not None:
        return TlsError(_tls_message(tls, host), method=method, path=path)
    if _name_unknown(exc):
        return UnknownHost(
            f"{host} is not a known host name ({detail}); check the URL (xnat.url)",
            method=method,
            path=path,
        )
    if isinstance(exc, httpx.ProxyError):
        return Unavailable(f"the proxy gave no usable answer ({detail})", method=method, path=path)
    if isinstance(exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError):
        return Unavailable(f"no answer ({detail})", method=method, path=path)
    return XnatError(f"request failed ({detail})", method=method, path=path)


# getaddrinfo's answers that a name does not exist, as opposed to a resolver not answering now
# (EAI_AGAIN), which is an outage and is retried.
_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


def _name_unknown(exc: BaseException) -> bool:
    """Whether a resolver said, somewhere in the cause chain, that the host name does not exist."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, socket.gaierror) and seen.errno in _NO_SUCH_NAME:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _tls_cause(exc: BaseException) -> ssl.SSLError | None:
    """
    The innermost `ssl` error behind a transport error, however many layers wrapped it
    (aiohttp's own wrappers are ssl errors too, without the details).
    """
    found: ssl.SSLError | None = None
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLError):
            found = seen
        seen = seen.__cause__ or seen.__context__
    return found


def _tls_message(error: ssl.SSLError, host: str) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        why = getattr(error, "verify_message", None) or getattr(error, "reason", None) or error
        return (
            f"the TLS certificate of {host} is not trusted ({why}); if the "
            "site uses its own certificate authority, set ca_bundle to that authority's "
            "certificate file (or SSL_CERT_FILE); verify=false turns the check off"
        )
    why = getattr(error, "reason", None) or error
    return f"TLS with {host} failed ({why}); does the URL name the right port?"
