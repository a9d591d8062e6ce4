"""Error paths of the client's HTTP layer, against a scripted XNAT (unit tier)."""

from __future__ import annotations

import socket

import httpx
import pytest

from xnat_client import (
    BadResponse,
    Conflict,
    Forbidden,
    NotFound,
    Redirected,
    RequestRejected,
    RetryPolicy,
    ServerError,
    Unavailable,
    UnknownHost,
    XnatError,
)

from ._client_fakes import RESTLET_404, FakeXnat, client_for, listing

pytestmark = pytest.mark.anyio


def always(status: int, text: str = "") -> FakeXnat:
    return FakeXnat(lambda _r: httpx.Response(status, text=text))


async def test_503_then_success_is_retried() -> None:
    """A GET that meets one 503 is retried and returns the next answer."""
    answers = iter([httpx.Response(503), listing([{"ID": "P1", "name": "one"}])])
    fake = FakeXnat(lambda _r: next(answers))
    async with client_for(fake) as xnat:
        projects = await xnat.list_projects()
    assert [p.id for p in projects] == ["P1"]
    assert len(fake.data_requests()) == 2


async def test_503_storm_ends_in_unavailable_after_all_attempts() -> None:
    """Persistent 503s are retried `attempts` times, then raise Unavailable with context."""
    fake = always(503, "busy")
    async with client_for(fake) as xnat:
        with pytest.raises(Unavailable) as caught:
            await xnat.list_projects()
    assert len(fake.data_requests()) == 4
    assert (caught.value.method, caught.value.path, caught.value.status) == (
        "GET",
        "/data/projects",
        503,
    )


async def test_get_500_is_retried_then_server_error() -> None:
    """A GET answered 500 every time is retried, then raises ServerError."""
    fake = always(500, "boom")
    async with client_for(fake) as xnat:
        with pytest.raises(ServerError):
            await xnat.list_projects()
    assert len(fake.data_requests()) == 4


async def test_put_500_is_not_retried() -> None:
    """500 is retried only for GET: a PUT that failed with 500 may have half-happened."""
    from xnat_client import ResourceRef

    fake = always(500)
    async with client_for(fake) as xnat:
        with pytest.raises(ServerError):
            await xnat.create_resource(ResourceRef.session("E1", "OUT"))
    assert len(fake.data_requests()) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, RequestRejected), (403, Forbidden), (404, NotFound), (409, Conflict), (417, XnatError)],
)
async def test_4xx_is_not_retried(status: int, error: type[XnatError]) -> None:
    """A 4xx is the server's final word: one attempt, the matching exception."""
    fake = always(status)
    async with client_for(fake) as xnat:
        with pytest.raises(error) as caught:
            await xnat.list_projects()
    assert caught.value.status == status
    assert len(fake.data_requests()) == 1


async def test_post_is_never_retried() -> None:
    """A POST that met a 503 is not sent again (POST is not idempotent in XNAT)."""
    fake = always(503)
    async with client_for(fake) as xnat:
        with pytest.raises(Unavailable):
            await xnat._core.request("POST", "/data/projects")
    assert [r.method for r in fake.data_requests()] == ["POST"]


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("read timed out"), httpx.ConnectError("refused"), httpx.ConnectTimeout("")],
)
async def test_transport_failures_are_retried_then_unavailable(failure: Exception) -> None:
    """Timeouts and connection errors are retried, then surface as Unavailable (not httpx)."""

    def fail(_request: httpx.Request) -> httpx.Response:
        raise failure

    fake = FakeXnat(fail)
    async with client_for(fake) as xnat:
        with pytest.raises(Unavailable) as caught:
            await xnat.list_projects()
    assert isinstance(caught.value.__cause__, httpx.HTTPError)
    assert caught.value.status is None
    assert len(fake.data_requests()) == 4


def _resolver_says(code: int, text: str) -> httpx.ConnectError:
    """A connection error whose cause is the resolver's answer, as the transports raise it."""
    error = httpx.ConnectError(f"cannot connect: {text}")
    error.__cause__ = socket.gaierror(code, text)
    return error


async def test_an_unknown_host_name_is_not_retried() -> None:
    """The resolver says no such name: UnknownHost at once, naming xnat.url, one attempt."""
    failure = _resolver_says(socket.EAI_NONAME, "Name or service not known")

    def fail(_request: httpx.Request) -> httpx.Response:
        raise failure

    fake = FakeXnat(fail)
    async with client_for(fake) as xnat:
        with pytest.raises(UnknownHost, match=r"xnat\.url"):
            await xnat.list_projects()
    assert len(fake.data_requests()) == 1


async def test_a_resolver_that_does_not_answer_is_retried() -> None:
    """EAI_AGAIN (the resolver is down for now) is an outage: retried, then Unavailable."""
    failure = _resolver_says(socket.EAI_AGAIN, "Temporary failure in name resolution")

    def fail(_request: httpx.Request) -> httpx.Response:
        raise failure

    fake = FakeXnat(fail)
    async with client_for(fake) as xnat:
        with pytest.raises(Unavailable):
            await xnat.list_projects()
    assert len(fake.data_requests()) == 4


async def test_retry_budget_stops_retries() -> None:
    """With a zero time budget a failing GET is tried once."""
    fake = always(503)
    budget = RetryPolicy(attempts=10, backoff_initial=0.001, budget=0.0)
    async with client_for(fake, retry=budget) as xnat:
        with pytest.raises(Unavailable):
            await xnat.list_projects()
    assert len(fake.data_requests()) == 1


async def test_malformed_json_is_bad_response() -> None:
    """A 200 whose JSON does not parse raises BadResponse."""
    fake = FakeXnat(lambda _r: httpx.Response(200, text='{"ResultSet": {"Result": [{'))
    async with client_for(fake) as xnat:
        with pytest.raises(BadResponse, match="malformed JSON"):
            await xnat.list_projects()


async def test_html_page_with_200_is_bad_response() -> None:
    """A login page served with 200 (a proxy, a browser redirect) is an error, not data."""
    page = "<!DOCTYPE html><html><title>XNAT Login</title><body>Login</body></html>"
    fake = FakeXnat(lambda _r: httpx.Response(200, text=page))
    async with client_for(fake) as xnat:
        with pytest.raises(BadResponse) as caught:
            await xnat.list_projects()
    assert caught.value.excerpt == "XNAT Login"


async def test_json_without_resultset_is_bad_response() -> None:
    """Valid JSON that is not a listing envelope raises BadResponse."""
    fake = FakeXnat(lambda _r: httpx.Response(200, json={"items": []}))
    async with client_for(fake) as xnat:
        with pytest.raises(BadResponse, match="ResultSet"):
            await xnat.list_projects()


async def test_restlet_error_page_is_reduced_to_its_h3() -> None:
    """The exception carries the <h3> line of XNAT's status page, not the whole HTML."""
    fake = FakeXnat(lambda _r: httpx.Response(404, text=RESTLET_404))
    async with client_for(fake) as xnat:
        with pytest.raises(NotFound) as caught:
            await xnat.delete_assessor("E1", "A1")
    assert caught.value.excerpt == "Unable to find the specified experiment."
    assert "DELETE /data/experiments/E1/assessors/A1 -> 404" in str(caught.value)


async def test_redirect_is_not_followed() -> None:
    """A 302 to the login page (browser-style) raises Redirected naming it, not followed."""
    redirect = httpx.Response(302, headers={"Location": "/app/template/Login.vm"})
    fake = FakeXnat(lambda _r: redirect)
    async with client_for(fake) as xnat:
        with pytest.raises(Redirected) as caught:
            await xnat.list_projects()
    assert (caught.value.status, caught.value.location) == (302, "/app/template/Login.vm")
    assert "/app/template/Login.vm" in str(caught.value)
    assert len(fake.data_requests()) == 1
