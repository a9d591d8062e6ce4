"""
Redirects, login pages served with 200, and cookies kept beside the session (unit tier).

XNAT is scripted with a respx router used as the client's transport (respx's way of mocking
without patching: `httpx.MockTransport(router.async_handler)`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
import respx

from xnat_client import (
    AuthFailed,
    Credentials,
    LoginRequired,
    Redirected,
    ResourceRef,
    RetryPolicy,
    XnatClient,
)

from ._client_fakes import listing, session_cookie

pytestmark = pytest.mark.anyio

HTTP, HTTPS = "http://xnat.test", "https://xnat.test"
ADMIN = Credentials.password("admin", "pw-0f-admin")
FAST = RetryPolicy(attempts=3, backoff_initial=0.001, backoff_max=0.002, budget=5.0)
PROJECTS = listing([{"ID": "P1", "name": "one"}])
LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>XNAT - Login</title></head><body>"
    '<form method="post" action="/login"><input type="text" name="username">'
    '<input type="password" name="password"></form></body></html>'
)


def router() -> respx.MockRouter:
    """Routes added by each test; the logout is always answered."""
    routes = respx.MockRouter(using=None, assert_all_called=False)
    routes.delete(f"{HTTP}/data/JSESSION", name="logout").mock(return_value=httpx.Response(200))
    return routes


def client(routes: respx.MockRouter, url: str = HTTP, **kwargs: object) -> XnatClient:
    transport = httpx.MockTransport(routes.async_handler)
    options: dict[str, object] = {"retry": FAST, "netrc": Path("/nonexistent/netrc"), **kwargs}
    return XnatClient(url, transport=transport, **options)  # type: ignore[arg-type]


def page(text: str = LOGIN_PAGE) -> httpx.Response:
    return httpx.Response(200, text=text, headers={"Content-Type": "text/html;charset=UTF-8"})


class Logins:
    """POST /data/JSESSION: a new session each time, numbered."""

    def __init__(self, cookies: tuple[str, ...] = ()) -> None:
        self.count = 0
        self.cookies = cookies

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        session = f"S{self.count}"
        headers = [("Set-Cookie", f"JSESSIONID={session}; Path=/; HttpOnly")]
        headers += [("Set-Cookie", c) for c in self.cookies]
        return httpx.Response(200, text=session, headers=headers)


async def test_http_get_redirected_to_https_on_the_same_host_is_followed_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """http -> https on the same host: followed once per request, one warning to fix the URL."""
    caplog.set_level(logging.WARNING, logger="xnat_client")
    routes = router()
    upgrade = routes.get(url__startswith=f"{HTTP}/data/projects").mock(
        side_effect=lambda r: httpx.Response(
            301, headers={"Location": str(r.url.copy_with(scheme="https"))}
        )
    )
    answer = routes.get(url__startswith=f"{HTTPS}/data/projects").mock(return_value=PROJECTS)
    async with client(routes) as xnat:
        first = await xnat.list_projects()
        second = await xnat.list_projects()
    assert [p.id for p in first + second] == ["P1", "P1"]
    assert (upgrade.call_count, answer.call_count) == (2, 2)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert f"set the XNAT URL to {HTTPS}" in warnings[0]


async def test_a_redirect_to_another_host_is_an_error_naming_the_location() -> None:
    """A GET redirected elsewhere is not followed: Redirected with the Location."""
    routes = router()
    elsewhere = "https://sso.example.org/login?next=/data/projects"
    routes.get(url__startswith=HTTP).mock(
        return_value=httpx.Response(302, headers={"Location": elsewhere})
    )
    followed = routes.get(url__startswith="https://sso.example.org")
    async with client(routes) as xnat:
        with pytest.raises(Redirected) as caught:
            await xnat.list_projects()
    assert (caught.value.location, caught.value.status) == (elsewhere, 302)
    assert elsewhere in str(caught.value)
    assert not followed.called


async def test_a_write_redirected_to_https_is_not_followed() -> None:
    """Only GETs are followed: a PUT redirected to https raises Redirected."""
    routes = router()
    target = f"{HTTPS}/data/experiments/E1/resources/OUT"
    routes.put(url__startswith=HTTP).mock(
        return_value=httpx.Response(308, headers={"Location": target})
    )
    followed = routes.put(url__startswith=HTTPS)
    async with client(routes) as xnat:
        with pytest.raises(Redirected) as caught:
            await xnat.create_resource(ResourceRef.session("E1", "OUT"))
    assert caught.value.location == target
    assert not followed.called


async def test_a_redirected_login_is_an_error_naming_the_location() -> None:
    """The login POST redirected to https: Redirected, and the credentials are not resent."""
    routes = router()
    routes.post(f"{HTTP}/data/JSESSION").mock(
        return_value=httpx.Response(301, headers={"Location": f"{HTTPS}/data/JSESSION"})
    )
    resent = routes.post(f"{HTTPS}/data/JSESSION")
    async with client(routes, credentials=ADMIN) as xnat:
        with pytest.raises(Redirected) as caught:
            await xnat.list_projects()
    assert caught.value.location == f"{HTTPS}/data/JSESSION"
    assert (caught.value.method, caught.value.path) == ("POST", "/data/JSESSION")
    assert not resent.called


async def test_a_redirect_after_the_followed_one_is_an_error() -> None:
    """A redirect is followed once: the https answer redirecting again raises Redirected."""
    routes = router()
    routes.get(url__startswith=HTTP).mock(
        return_value=httpx.Response(301, headers={"Location": f"{HTTPS}/data/projects"})
    )
    routes.get(url__startswith=HTTPS).mock(
        return_value=httpx.Response(302, headers={"Location": "/app/template/Login.vm"})
    )
    async with client(routes) as xnat:
        with pytest.raises(Redirected) as caught:
            await xnat.list_projects()
    assert caught.value.location == "/app/template/Login.vm"


async def test_a_login_page_served_with_200_renews_the_session_once() -> None:
    """The login page where JSON was due means the session is lost: one re-login, then data."""
    routes = router()
    logins = Logins()
    routes.post(f"{HTTP}/data/JSESSION").mock(side_effect=logins)
    answers = iter([PROJECTS, page(), PROJECTS])
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(session_cookie(request))
        return next(answers)

    routes.get(url__startswith=f"{HTTP}/data/projects").mock(side_effect=answer)
    async with client(routes, credentials=ADMIN) as xnat:
        await xnat.list_projects()
        projects = await xnat.list_projects()
    assert [p.id for p in projects] == ["P1"]
    assert logins.count == 2
    assert sent == ["S1", "S1", "S2"]


async def test_a_login_page_that_stays_is_login_required() -> None:
    """Still the login page after one re-login: LoginRequired (an AuthFailed), no loop."""
    routes = router()
    logins = Logins()
    routes.post(f"{HTTP}/data/JSESSION").mock(side_effect=logins)
    routes.get(url__startswith=f"{HTTP}/data/").mock(return_value=page())
    async with client(routes, credentials=ADMIN) as xnat:
        with pytest.raises(LoginRequired) as caught:
            await xnat.project_snapshot("P1")
    assert isinstance(caught.value, AuthFailed)
    assert "login page even after logging in again" in str(caught.value)
    assert logins.count == 2


async def test_a_login_page_without_credentials_asks_for_them() -> None:
    """An anonymous client shown the login page is told to give credentials."""
    routes = router()
    routes.get(url__startswith=f"{HTTP}/data/projects").mock(return_value=page())
    async with client(routes) as xnat:
        with pytest.raises(LoginRequired, match="give credentials"):
            await xnat.list_projects()


async def test_a_downloaded_html_file_is_not_taken_for_a_login_page() -> None:
    """A resource file that is an HTML form is downloaded as it is."""
    routes = router()
    routes.get(url__startswith=f"{HTTP}/data/experiments/E1/resources/OUT/files/").mock(
        return_value=page()
    )
    chunks: list[bytes] = []

    async def sink(chunk: bytes) -> None:
        chunks.append(chunk)

    async with client(routes) as xnat:
        await xnat.download_file(ResourceRef.session("E1", "OUT"), "report.html", sink)
    assert b"".join(chunks) == LOGIN_PAGE.encode()


async def test_a_sticky_cookie_is_sent_beside_the_session() -> None:
    """A load balancer's cookie set at login travels with the JSESSIONID on every request."""
    routes = router()
    logins = Logins(cookies=("ROUTEID=.node2; Path=/",))
    routes.post(f"{HTTP}/data/JSESSION").mock(side_effect=logins)
    expiry = 'SESSION_EXPIRATION_TIME="1,900000"; Path=/'
    data = routes.get(url__startswith=f"{HTTP}/data/projects").mock(
        return_value=httpx.Response(200, json=PROJECTS.json(), headers={"Set-Cookie": expiry})
    )
    logout = routes["logout"]
    async with client(routes, credentials=ADMIN) as xnat:
        await xnat.list_projects()
        await xnat.list_projects()
    cookies = [c.request.headers["Cookie"] for c in [*data.calls, *logout.calls]]
    assert cookies == ["JSESSIONID=S1; ROUTEID=.node2"] * 3


async def test_the_login_itself_carries_the_sticky_cookie() -> None:
    """A re-login goes to the node the cookie names, and sends no stale session."""
    routes = router()
    logins = Logins(cookies=("ROUTEID=.node2; Path=/",))
    login = routes.post(f"{HTTP}/data/JSESSION").mock(side_effect=logins)
    answers = iter([PROJECTS, httpx.Response(401), PROJECTS])
    routes.get(url__startswith=f"{HTTP}/data/projects").mock(side_effect=lambda _r: next(answers))
    async with client(routes, credentials=ADMIN) as xnat:
        await xnat.list_projects()
        await xnat.list_projects()
    cookies = [c.request.headers.get("Cookie") for c in login.calls]
    assert cookies == [None, "ROUTEID=.node2"]
