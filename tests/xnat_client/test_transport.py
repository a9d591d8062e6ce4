"""
The client's own HTTP/1.1 transport against real sockets on 127.0.0.1: keep-alive, the
connection limit, streamed bodies both ways, TLS, and every way a server can misbehave.
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import hashlib
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import h11
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from xnat_client._transport import PooledTransport

pytestmark = pytest.mark.anyio

Handler = Callable[["Peer"], Awaitable[None]]


@dataclass
class Peer:
    """One accepted connection, read with h11 so the server side is an independent parser."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    h11: h11.Connection = field(default_factory=lambda: h11.Connection(h11.SERVER))

    async def request(self) -> tuple[h11.Request, bytes] | None:
        """The next request and its whole body; None when the client closed."""
        head: h11.Request | None = None
        body = b""
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                self.h11.receive_data(await self.reader.read(65536))
            elif isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return head, body
            elif isinstance(event, h11.ConnectionClosed):
                return None
            elif event is h11.PAUSED:  # the last answer was written raw: start over
                leftover, _ = self.h11.trailing_data
                self.h11 = h11.Connection(h11.SERVER)
                self.h11.receive_data(leftover)
            else:
                raise AssertionError(f"unexpected {event!r}")

    async def answer(
        self, status: int, body: bytes, headers: list[tuple[str, str]] | None = None
    ) -> None:
        head = [("Content-Length", str(len(body))), *(headers or [])]
        data = self.h11.send(h11.Response(status_code=status, headers=head))
        self.writer.write((data or b"") + (self.h11.send(h11.Data(data=body)) or b""))
        self.writer.write(self.h11.send(h11.EndOfMessage()) or b"")
        await self.writer.drain()
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()

    def raw(self, data: bytes) -> None:
        self.writer.write(data)


@dataclass
class Server:
    url: str
    accepted: int = 0


@asynccontextmanager
async def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[Server]:
    server = Server("")

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.accepted += 1
        try:
            await handler(Peer(reader, writer))
        finally:
            writer.close()

    listener = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=tls)
    port = listener.sockets[0].getsockname()[1]
    server.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    async with listener:
        yield server


async def echo_forever(peer: Peer) -> None:
    """Answers every request with the sha256 of its body and its method and target."""
    while (got := await peer.request()) is not None:
        head, body = got
        digest = hashlib.sha256(body).hexdigest().encode()
        await peer.answer(200, head.method + b" " + head.target + b" " + digest)


async def test_sequential_requests_share_one_connection() -> None:
    """Twenty requests one after another open one connection, reused each time."""
    async with serve(echo_forever) as server:
        transport = PooledTransport(4)
        async with httpx.AsyncClient(transport=transport) as client:
            for n in range(20):
                response = await client.get(f"{server.url}/data/{n}?format=json")
                assert response.text.startswith(f"GET /data/{n}?format=json ")
    assert (server.accepted, transport.connections_opened) == (1, 1)


async def test_concurrent_requests_never_exceed_the_connection_limit() -> None:
    """Thirty requests at once through a pool of three: three connections, all answered."""
    async with serve(echo_forever) as server:
        transport = PooledTransport(3)
        answers: list[str] = []
        async with httpx.AsyncClient(transport=transport) as client:

            async def one(n: int) -> None:
                answers.append((await client.put(f"{server.url}/x/{n}", content=b"a")).text)

            with anyio.fail_after(30):
                async with anyio.create_task_group() as tg:
                    for n in range(30):
                        tg.start_soon(one, n)
    assert len(answers) == 30
    assert server.accepted <= 3


async def test_streamed_request_body_arrives_whole_chunked_or_with_length() -> None:
    """An async body of 5 MB arrives intact, chunked without a length and framed with one."""
    parts = [bytes([n % 251]) * 100_003 for n in range(50)]
    expected = hashlib.sha256(b"".join(parts)).hexdigest()

    async def body() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    async with (
        serve(echo_forever) as server,
        httpx.AsyncClient(transport=PooledTransport(2)) as client,
    ):
        chunked = await client.put(f"{server.url}/up", content=body())
        length = str(sum(map(len, parts)))
        framed = await client.put(
            f"{server.url}/up", content=body(), headers={"Content-Length": length}
        )
    assert chunked.text.endswith(expected)
    assert framed.text.endswith(expected)


async def test_large_response_streams_in_pieces_and_the_connection_is_reused() -> None:
    """An 8 MB answer is read in pieces, whole, and its connection carries the next request."""
    blob = bytes(range(256)) * 32768

    async def big(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.answer(200, blob)

    async with serve(big) as server:
        transport = PooledTransport(1)
        async with httpx.AsyncClient(transport=transport) as client:
            for _ in range(2):
                async with client.stream("GET", f"{server.url}/blob") as response:
                    pieces = [piece async for piece in response.aiter_raw()]
                assert b"".join(pieces) == blob
                assert len(pieces) > 1
    assert transport.connections_opened == 1


async def test_a_close_delimited_body_ends_at_the_close() -> None:
    """A body with neither length nor chunking is complete when the server closes."""

    async def old_style(peer: Peer) -> None:
        await peer.request()
        peer.raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")

    async with (
        serve(old_style) as server,
        httpx.AsyncClient(transport=PooledTransport(1)) as client,
    ):
        assert (await client.get(f"{server.url}/")).text == "all of it"


async def test_connection_close_is_honoured() -> None:
    """`Connection: close` from the server: the next request opens a new connection."""

    async def once(peer: Peer) -> None:
        if await peer.request() is not None:
            await peer.answer(200, b"bye", [("Connection", "close")])

    async with serve(once) as server:
        transport = PooledTransport(1)
        async with httpx.AsyncClient(transport=transport) as client:
            for _ in range(2):
                assert (await client.get(f"{server.url}/")).text == "bye"
    assert transport.connections_opened == 2 == server.accepted


async def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    """The server drops an idle keep-alive connection: the next request opens a fresh one."""
    hang_up = anyio.Event()

    async def answer_then_hang_up(peer: Peer) -> None:
        if await peer.request() is not None:
            await peer.answer(200, b"ok")
            await hang_up.wait()

    async with serve(answer_then_hang_up) as server:
        transport = PooledTransport(1)
        async with httpx.AsyncClient(transport=transport) as client:
            assert (await client.get(f"{server.url}/")).text == "ok"
            (idle,) = transport._idle[("http", "127.0.0.1", int(server.url.rsplit(":", 1)[1]))]
            lost = anyio.Event()
            seen_by_pool = idle.connection_lost

            def note_loss(exc: Exception | None) -> None:
                seen_by_pool(exc)
                lost.set()

            idle.connection_lost = note_loss  # type: ignore[method-assign]
            hang_up.set()
            with anyio.fail_after(5):
                await lost.wait()
            assert (await client.get(f"{server.url}/")).text == "ok"
    assert transport.connections_opened == 2


async def test_server_closing_mid_body_raises_read_error() -> None:
    """A body cut short by the server is an error, never a short success."""

    async def cut(peer: Peer) -> None:
        await peer.request()
        peer.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")

    async with serve(cut) as server, httpx.AsyncClient(transport=PooledTransport(1)) as client:
        with pytest.raises(httpx.ReadError, match="before the response ended"):
            await client.get(f"{server.url}/")


async def test_malformed_response_raises_protocol_error() -> None:
    """Garbage instead of a status line is a protocol error."""

    async def garbage(peer: Peer) -> None:
        await peer.request()
        peer.raw(b"SPDY/9 banana\r\n\r\n")
        await peer.reader.read()

    async with serve(garbage) as server, httpx.AsyncClient(transport=PooledTransport(1)) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="malformed"):
            await client.get(f"{server.url}/")


async def test_a_silent_server_gives_read_timeout_and_frees_the_slot() -> None:
    """No answer within the read timeout raises; the pool's only slot is free again after."""
    calls = 0

    async def silent_then_echo(peer: Peer) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await peer.reader.read()
        else:
            await echo_forever(peer)

    async with (
        serve(silent_then_echo) as server,
        httpx.AsyncClient(
            transport=PooledTransport(1), timeout=httpx.Timeout(5.0, read=0.2)
        ) as client,
    ):
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"{server.url}/")
        with anyio.fail_after(10):
            assert (await client.get(f"{server.url}/again")).status_code == 200


async def test_a_cancelled_request_frees_its_slot() -> None:
    """Cancelling a request in flight closes its connection and frees the pool's slot."""
    arrived = anyio.Event()

    async def hold_first(peer: Peer) -> None:
        if not arrived.is_set():
            await peer.request()
            arrived.set()
            await peer.reader.read()
        else:
            await echo_forever(peer)

    async with (
        serve(hold_first) as server,
        httpx.AsyncClient(transport=PooledTransport(1)) as client,
    ):
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.get, f"{server.url}/held")
                await arrived.wait()
                tg.cancel_scope.cancel()
            assert (await client.get(f"{server.url}/next")).status_code == 200


async def test_waiting_for_a_connection_times_out_as_pool_timeout() -> None:
    """With the only connection busy, a second request gives up after the pool timeout."""
    arrived = anyio.Event()

    async def hold(peer: Peer) -> None:
        await peer.request()
        arrived.set()
        await peer.reader.read()

    async with (
        serve(hold) as server,
        httpx.AsyncClient(
            transport=PooledTransport(1), timeout=httpx.Timeout(5.0, pool=0.2)
        ) as client,
    ):
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.get, f"{server.url}/held")
                await arrived.wait()
                with pytest.raises(httpx.PoolTimeout):
                    await client.get(f"{server.url}/second")
                tg.cancel_scope.cancel()


async def test_refused_connection_raises_connect_error() -> None:
    """Nothing listening: a connect error that names the address."""
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    async with httpx.AsyncClient(transport=PooledTransport(1)) as client:
        with pytest.raises(httpx.ConnectError, match=f"127.0.0.1:{port}"):
            await client.get(f"http://127.0.0.1:{port}/")


async def test_an_early_answer_stops_the_upload() -> None:
    """The server refuses a large upload before reading it: the client gets that answer."""

    async def refuse(peer: Peer) -> None:
        await peer.reader.readuntil(b"\r\n\r\n")
        peer.raw(b"HTTP/1.1 413 Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nno!")
        await peer.writer.drain()

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(10_000):
            yield b"x" * 65536

    async with serve(refuse) as server, httpx.AsyncClient(transport=PooledTransport(1)) as client:
        with anyio.fail_after(20):
            try:
                response = await client.put(f"{server.url}/", content=endless())
            except httpx.WriteError:  # the close can beat the answer; never a hang
                return
    assert (response.status_code, response.text) == (413, "no!")


async def test_informational_answers_are_skipped_and_head_has_no_body() -> None:
    """A 100 Continue before the answer is skipped; a HEAD answer ends at its headers."""

    async def continue_then_answer(peer: Peer) -> None:
        while (got := await peer.request()) is not None:
            head, _ = got
            if head.method == b"HEAD":
                peer.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
            else:
                peer.raw(b"HTTP/1.1 100 Continue\r\n\r\n")
                peer.raw(b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone")

    async with (
        serve(continue_then_answer) as server,
        httpx.AsyncClient(transport=PooledTransport(1)) as client,
    ):
        with anyio.fail_after(10):
            created = await client.put(f"{server.url}/", content=b"x")
            head = await client.head(f"{server.url}/")
    assert (created.status_code, created.text) == (201, "done")
    assert (head.status_code, head.headers["content-length"], head.content) == (200, "1234", b"")


def _self_signed(directory: Path) -> tuple[ssl.SSLContext, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return server, cert_file


async def test_https_verifies_the_certificate(tmp_path: Path) -> None:
    """TLS works with a trusted certificate and fails to connect with an untrusted one."""
    server_context, cert_file = _self_signed(tmp_path)
    async with serve(echo_forever, tls=server_context) as server:
        trusting = PooledTransport(1, ssl_context=ssl.create_default_context(cafile=cert_file))
        async with httpx.AsyncClient(transport=trusting) as client:
            assert (await client.get(f"{server.url}/secure")).text.startswith("GET /secure ")
        async with httpx.AsyncClient(transport=PooledTransport(1)) as client:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.get(f"{server.url}/secure")


async def test_an_encoded_answer_is_decoded() -> None:
    """A gzip-encoded answer arrives whole and is handed over decoded."""
    packed = gzip.compress(b"a listing, compressed")

    async def gzipped(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.answer(200, packed, [("Content-Encoding", "gzip")])

    async with serve(gzipped) as server, httpx.AsyncClient(transport=PooledTransport(1)) as client:
        response = await client.get(f"{server.url}/")
    assert response.content == b"a listing, compressed"
