"""Authentication on the XNAT-compatible server: Basic, JSESSIONID, logout, 401 pages."""

from __future__ import annotations

import httpx
import pytest

from xnat_client.sandbox import Sessions, XnatServer

pytestmark = pytest.mark.anyio


def _client(server: XnatServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://xnat")


async def test_data_path_without_credentials_is_401_with_challenge() -> None:
    """A data path without credentials answers 401 with a Basic challenge and no JSON."""
    async with _client(XnatServer()) as client:
        response = await client.get("/data/projects?format=json")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic realm=")
    assert response.headers["content-type"].startswith("text/html")


async def test_login_sets_cookie_and_cookie_alone_authenticates() -> None:
    """POST /data/JSESSION returns the session id as text and sets JSESSIONID for later calls."""
    async with _client(XnatServer()) as client:
        login = await client.post("/data/JSESSION", auth=("admin", "admin"))
        auth = await client.get("/data/auth")
    assert login.status_code == 200
    assert login.text == login.cookies["JSESSIONID"]
    assert len(login.text) == 32
    assert (auth.status_code, auth.text) == (200, "User 'admin' is logged in")


async def test_session_expiration_cookie_is_quoted_like_tomcat() -> None:
    """Every answer carries SESSION_EXPIRATION_TIME="<ms>,<timeout ms>" as xnatpy parses it."""
    async with _client(XnatServer(session_timeout=60)) as client:
        login = await client.post("/data/JSESSION", auth=("admin", "admin"))
    cookies = [v for k, v in login.headers.multi_items() if k == "set-cookie"]
    expiry = next(c for c in cookies if c.startswith("SESSION_EXPIRATION_TIME="))
    value = expiry.split(";")[0].split("=", 1)[1]
    assert value.startswith('"')
    assert value.endswith(',60000"')


async def test_wrong_password_is_401_even_with_a_valid_cookie() -> None:
    """Bad Basic credentials are refused although the cookie would have been accepted."""
    async with _client(XnatServer()) as client:
        await client.post("/data/JSESSION", auth=("admin", "admin"))
        response = await client.get("/data/auth", auth=("admin", "wrong"))
    assert response.status_code == 401
    assert "Login attempt failed" in response.text


async def test_logout_invalidates_the_session() -> None:
    """DELETE /data/JSESSION answers 200 and the cookie no longer authenticates."""
    async with _client(XnatServer()) as client:
        await client.post("/data/JSESSION", auth=("admin", "admin"))
        logout = await client.delete("/data/JSESSION")
        after = await client.get("/data/auth")
    assert logout.status_code == 200
    assert after.status_code == 401


async def test_expired_sessions_are_401() -> None:
    """A session idle longer than the timeout no longer authenticates; a fresh one does."""
    now = [0.0]
    server = XnatServer()
    server.sessions = Sessions({"admin": "admin"}, timeout=10.0, clock=lambda: now[0])
    async with _client(server) as client:
        await client.post("/data/JSESSION", auth=("admin", "admin"))
        now[0] = 5.0
        fresh = await client.get("/data/projects?format=json")
        now[0] = 20.0
        stale = await client.get("/data/projects?format=json")
    assert (fresh.status_code, stale.status_code) == (200, 401)


async def test_form_login_on_services_auth() -> None:
    """PUT /data/services/auth with a form logs in; bad passwords get 401."""
    async with _client(XnatServer(users={"ann": "pw"})) as client:
        bad = await client.put("/data/services/auth", data={"username": "ann", "password": "x"})
        good = await client.put("/data/services/auth", data={"username": "ann", "password": "pw"})
        auth = await client.get("/data/auth")
    assert bad.status_code == 401
    assert good.status_code == 200
    assert good.text == good.cookies["JSESSIONID"]
    assert auth.text == "User 'ann' is logged in"


async def test_version_is_404_and_build_info_is_open() -> None:
    """/data/version is a Restlet 404 (XNAT >= 1.7); buildInfo answers without credentials."""
    async with _client(XnatServer()) as client:
        version = await client.get("/data/version", auth=("admin", "admin"))
        build = await client.get("/xapi/siteConfig/buildInfo?format=json")
    assert version.status_code == 404
    assert "<h3>" in version.text
    assert build.status_code == 200
    assert build.json()["version"].startswith("1.8")


async def test_browser_user_agent_is_redirected_to_login() -> None:
    """Anonymous browsers are sent to the login page rather than challenged."""
    async with _client(XnatServer()) as client:
        response = await client.get("/data/projects", headers={"User-Agent": "Mozilla/5.0"})
    assert response.status_code == 302
    assert response.headers["location"] == "/app/template/Login.vm"
