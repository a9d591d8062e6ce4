"""What a POST may not do: a bad token, hostile names, a huge body: refused, nothing changed."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import anyio
import httpx
import pytest
from pydantic import SecretStr

from aspider import ConfigError
from aspider.serve import serve
from aspider.serve.auth import authorized, check_bind, is_loopback
from aspider.serve.labels import is_xnat_label
from tests.serve.conftest import (
    PROJECT,
    archive_session,
    metric,
    running_service,
    runs_processor,
    service_settings,
)
from xnat_client.sandbox import XnatServer

pytestmark = pytest.mark.anyio


async def raw_post(url: str, target: str, headers: dict[str, str]) -> int:
    """POST `target` exactly as given (httpx would resolve `..`); the status code."""
    host, port = url.removeprefix("http://").split(":")
    lines = [f"POST {target} HTTP/1.1", f"Host: {host}", "Content-Length: 0", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    async with await anyio.connect_tcp(host, int(port)) as stream:
        await stream.send(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n" not in head:
            head += await stream.receive()
    return int(head.split(b" ", 2)[1])


TOKEN = "s3cret-token-for-the-tests-0123456789"
HOSTILE = [
    'it\'s "quoted"',
    "a;touch /tmp/aspider-serve-pwned",
    "$(touch /tmp/aspider-serve-pwned)",
    "`id`",
    "spaces and more",
    "ünïcödé✓",
    "..",
    "../../etc",
    "a/b",
    "a\\b",
    "x" * 256,
    "y" * 5000,
    "",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_not_xnat_labels(name: str) -> None:
    """None of the hostile names passes as an XNAT label; plain ones do."""
    assert not is_xnat_label(name)
    assert is_xnat_label("Sess_01-b")


def test_token_is_compared_whole_and_with_its_scheme() -> None:
    """Only `Bearer <the token>` is authorized; a prefix, another scheme or nothing is not."""
    token = SecretStr(TOKEN)
    assert authorized(token, f"Bearer {TOKEN}")
    assert authorized(token, f"bearer {TOKEN}")
    for header in (None, "", TOKEN, f"Basic {TOKEN}", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x"):
        assert not authorized(token, header)


def test_a_non_loopback_bind_needs_a_token() -> None:
    """0.0.0.0 or a LAN address without a token is refused; loopback is fine either way."""
    for host in ("127.0.0.1", "127.8.9.10", "::1", "localhost"):
        assert is_loopback(host)
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", SecretStr(TOKEN))
    for host in ("0.0.0.0", "::", "192.0.2.7", "xnat.example.org"):
        with pytest.raises(ConfigError, match="token_file"):
            check_bind(host, None)


async def test_serve_refuses_to_start_on_all_addresses_without_a_token(tmp_path: Path) -> None:
    """`serve` with host 0.0.0.0 and no token fails before it binds anything."""
    settings = service_settings("http://127.0.0.1:9", tmp_path, host="0.0.0.0")
    with pytest.raises(ConfigError, match="not a loopback address"):
        await serve(settings, [], [PROJECT], signals=False)


async def _refusals(http: httpx.AsyncClient, url: str, max_body: int) -> list[int]:
    """The status codes of every refused kind of POST."""
    path = f"/api/v1/projects/{PROJECT}/sessions"
    good = {"Authorization": f"Bearer {TOKEN}"}
    codes = [
        (await http.post(f"{path}/E1", headers=headers)).status_code
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN})
    ]
    for name in HOSTILE:
        quoted = quote(name, safe="")
        codes.append(await raw_post(url, f"{path}/{quoted}", good))
        codes.append(await raw_post(url, f"/api/v1/projects/{quoted}/sessions/E1", good))
        codes.append(await raw_post(url, f"/api/v1/projects/{quoted}", good))
    huge = await http.post(f"{path}/E1", headers=good, content=b"x" * (max_body + 1))

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds anyway
        for _ in range(64):
            yield b"y" * 1024

    streamed = await http.post(f"{path}/E1", headers=good, content=chunks())
    unknown = await http.post("/api/v1/projects/NOPE/sessions/E1", headers=good)
    return [*codes, huge.status_code, streamed.status_code, unknown.status_code]


async def test_refused_posts_change_nothing(
    server: XnatServer, xnat_url: str, tmp_path: Path
) -> None:
    """A bad or missing token, hostile names and a huge body get 4xx; no sweep, no new task."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    proc = runs_processor(tmp_path / "procs", tmp_path / "runs.log")
    settings = service_settings(
        xnat_url, tmp_path / "work", token_file=str(token_file), sweep_on_start=False
    )
    await archive_session(xnat_url, "S1", "E1")
    async with running_service(settings, [proc]) as url, httpx.AsyncClient(base_url=url) as http:
        codes = await _refusals(http, url, settings.serve.max_body)
        assert [c for c in codes if not 400 <= c < 500] == []
        assert codes[:3] == [401, 401, 401]
        assert codes[-3:] == [413, 413, 404]
        assert await metric(url, "aspider_events_total") == 0.0
        assert await metric(url, "aspider_sweeps_total") == 0.0
        good = {"Authorization": f"Bearer {TOKEN}"}
        body = b'{"event": "archived"}'
        accepted = await http.post(
            f"/api/v1/projects/{PROJECT}/sessions/E1", headers=good, content=body
        )
        assert accepted.status_code == 202
    assert [a for s in server.store.sessions_of(PROJECT) for a in s.assessors] == []
    assert not await anyio.Path("/tmp/aspider-serve-pwned").exists()


def test_a_busy_port_names_the_option_to_change_it() -> None:
    """Binding a port another program holds: the error says so and names --port."""
    from aspider.serve.server import bind

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match="another program has it") as found:
            bind("127.0.0.1", port)
    assert "--port" in str(found.value)
