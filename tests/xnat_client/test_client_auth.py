"""Login, re-login, alias tokens, netrc, logout, lifecycle and secret hygiene (unit tier)."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import anyio
import httpx
import pytest
from pydantic import SecretStr

from xnat_client import (
    AuthFailed,
    ClientClosed,
    Credentials,
    ResourceRef,
    XnatClient,
    XnatError,
    XnatSettings,
)

from ._client_fakes import PASSWORD, URL, USER, FakeXnat, client_for, listing, session_cookie

pytestmark = pytest.mark.anyio

PROJECTS = listing([{"ID": "P1", "name": "", "description": ""}])


async def test_logs_in_once_then_sends_only_the_cookie() -> None:
    """One POST /data/JSESSION with Basic; data requests carry the cookie and no credentials."""
    fake = FakeXnat(lambda _r: PROJECTS)
    async with client_for(fake) as xnat:
        for _ in range(3):
            await xnat.list_projects()
    logins = [r for r in fake.requests if r.method == "POST"]
    assert len(logins) == 1
    assert logins[0].url.path == "/data/JSESSION"
    for request in fake.data_requests():
        assert "Authorization" not in request.headers
        assert session_cookie(request) in {f"{1:032X}"}
        assert request.headers["User-Agent"].startswith("aspider-xnat/")


async def test_expired_session_is_renewed_transparently() -> None:
    """A 401 on an expired session triggers one re-login and the request succeeds."""
    fake = FakeXnat(lambda _r: PROJECTS)
    async with client_for(fake) as xnat:
        await xnat.list_projects()
        fake.expire_sessions()
        projects = await xnat.list_projects()
    assert [p.id for p in projects] == ["P1"]
    assert fake.logins == 2


async def test_second_401_raises_auth_failed() -> None:
    """If XNAT still answers 401 after the re-login, the call fails with AuthFailed."""

    def refuse(_request: httpx.Request) -> httpx.Response:
        fake.expire_sessions()
        return httpx.Response(401, text="<html>401</html>")

    fake = FakeXnat(refuse)
    async with client_for(fake) as xnat:
        with pytest.raises(AuthFailed):
            await xnat.list_projects()
    assert fake.logins == 2
    assert len(fake.data_requests()) == 2


async def test_concurrent_401s_share_one_relogin() -> None:
    """Many requests that meet an expired session together cause a single re-login."""
    fake = FakeXnat(lambda _r: PROJECTS)
    async with client_for(fake) as xnat:
        await xnat.list_projects()
        fake.expire_sessions()
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for _ in range(8):
                    tg.start_soon(xnat.list_projects)
    assert fake.logins == 2


async def test_streamed_upload_is_repeated_after_relogin(tmp_path: Path) -> None:
    """A file upload that meets an expired session is re-read and sent again after re-login."""
    source = tmp_path / "out.txt"
    source.write_bytes(b"x" * 5000)
    ref = ResourceRef.session("E1", "OUT")

    def respond(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(200)
        uri = "/data/experiments/E1/resources/9/files/out.txt"
        return listing([{"Name": "out.txt", "Size": "5000", "URI": uri, "collection": "OUT"}])

    fake = FakeXnat(respond)
    async with client_for(fake) as xnat:
        await xnat.list_files(ref)
        fake.expire_sessions()
        entry = await xnat.upload_file(ref, "out.txt", source)
    puts = [b for r, b in zip(fake.requests, fake.bodies, strict=True) if r.method == "PUT"]
    assert entry.size == 5000
    assert fake.logins == 2
    assert len(puts) == 2
    assert puts[-1] == source.read_bytes()


async def test_wrong_password_is_auth_failed_without_the_password() -> None:
    """A refused login raises AuthFailed; the password appears nowhere in the error."""
    fake = FakeXnat(lambda _r: PROJECTS)
    bad = Credentials.password(USER, "not-the-" + PASSWORD)
    async with client_for(fake, credentials=bad) as xnat:
        with pytest.raises(AuthFailed) as caught:
            await xnat.list_projects()
    assert caught.value.path == "/data/JSESSION"
    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in repr(caught.value)


async def test_alias_token_logs_in_with_basic_alias_secret() -> None:
    """An alias token is sent as Basic alias:secret on the login request."""
    alias, secret = "6d1f7c1e-0b7a-4b3e-9b5e-3f1b2a7c9d10", "tok" + "e" * 61
    fake = FakeXnat(lambda _r: PROJECTS, secret=secret, user=alias)
    token = Credentials.alias_token(alias, secret)
    async with client_for(fake, credentials=token) as xnat:
        await xnat.list_projects()
    login = next(r for r in fake.requests if r.method == "POST")
    expected = base64.b64encode(f"{alias}:{secret}".encode()).decode()
    assert login.headers["Authorization"] == f"Basic {expected}"
    assert token.kind == "alias_token"
    assert secret not in repr(token)


def write_netrc(path: Path, machine: str) -> Path:
    path.write_text(f"machine {machine}\n  login {USER}\n  password {PASSWORD}\n")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("machine", ["xnat.test", "http://xnat.test"])
async def test_credentials_come_from_netrc_by_host(tmp_path: Path, machine: str) -> None:
    """Without explicit credentials the host (or the whole URL, as DAX writes it) is looked up."""
    netrc = write_netrc(tmp_path / "netrc", machine)
    fake = FakeXnat(lambda _r: PROJECTS)
    transport = httpx.MockTransport(fake.handler)
    async with XnatClient(URL, netrc=netrc, transport=transport) as xnat:
        await xnat.list_projects()
    assert fake.logins == 1


def test_netrc_without_the_host_gives_no_credentials(tmp_path: Path) -> None:
    """A netrc that does not name the host yields None (and a missing file too)."""
    netrc = write_netrc(tmp_path / "netrc", "other.example")
    assert Credentials.from_netrc(URL, netrc) is None
    assert Credentials.from_netrc(URL, tmp_path / "missing") is None


def test_broken_netrc_error_does_not_quote_the_file(tmp_path: Path) -> None:
    """A netrc parse error names the file and line, never a token from it."""
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine xnat.test login {USER} password {PASSWORD} bogus{PASSWORD}\n")
    netrc.chmod(0o600)
    with pytest.raises(AuthFailed) as caught:
        Credentials.from_netrc(URL, netrc)
    assert PASSWORD not in str(caught.value)
    assert str(netrc) in str(caught.value)


async def test_anonymous_401_says_how_to_authenticate() -> None:
    """Without any credentials a 401 explains where credentials come from."""
    fake = FakeXnat(lambda _r: PROJECTS)
    async with client_for(fake, credentials=None, netrc=Path("/nonexistent")) as xnat:
        with pytest.raises(AuthFailed, match="no credentials"):
            await xnat.list_projects()


async def test_close_logs_out_and_later_use_raises_client_closed() -> None:
    """aclose() sends DELETE /data/JSESSION; any call afterwards raises ClientClosed."""
    fake = FakeXnat(lambda _r: PROJECTS)
    xnat = client_for(fake)
    async with xnat:
        await xnat.list_projects()
    assert fake.logouts == 1
    assert fake.sessions == set()
    assert xnat.closed
    with pytest.raises(ClientClosed, match="closed"):
        await xnat.list_projects()
    await xnat.aclose()  # a second close is harmless
    assert fake.logouts == 1
    with pytest.raises(ClientClosed):
        async with xnat:
            pass


async def test_secrets_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    """Password and session id stay out of reprs, logs and exception text, even when echoed."""
    caplog.set_level(logging.DEBUG, logger="xnat_client")

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text=f"<h3>bad cookie {session_cookie(request)} {PASSWORD}</h3>")

    fake = FakeXnat(echo)
    credentials = Credentials.password(USER, PASSWORD)
    settings = XnatSettings(url=URL, user=USER, password=SecretStr(PASSWORD))
    async with client_for(fake, credentials=credentials) as xnat:
        with pytest.raises(XnatError) as caught:
            await xnat.list_projects()
        shown = [repr(credentials), str(credentials), repr(settings), repr(xnat)]
        shown += [str(caught.value), repr(caught.value), caught.value.excerpt, caplog.text]
    session = f"{1:032X}"
    for text in shown:
        assert PASSWORD not in text
        assert session not in text
    assert "***" in caught.value.excerpt


def test_credentials_in_url_are_refused() -> None:
    """A URL with user:password@ is refused, and the error does not repeat it."""
    with pytest.raises(ValueError, match="netrc") as caught:
        XnatClient(f"http://{USER}:{PASSWORD}@xnat.test")
    assert PASSWORD not in str(caught.value)


async def test_settings_build_a_client_with_an_alias_token() -> None:
    """XnatSettings with alias/secret gives a client that logs in with that token."""
    alias, secret = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b", "s" * 64
    fake = FakeXnat(lambda _r: PROJECTS, secret=secret, user=alias)
    settings = XnatSettings(url=URL, alias=alias, secret=SecretStr(secret), concurrency=2)
    async with XnatClient.from_settings(settings, transport=httpx.MockTransport(fake.handler)) as x:
        await x.list_projects()
    assert fake.logins == 1
    assert secret not in repr(settings)
