"""
CPU per request of the XNAT client's HTTP path, next to plain `httpx.AsyncClient`s.

    .venv/bin/python -m benchmarks.http_bench [--requests 3000] [--concurrency 16]

A minimal HTTP/1.1 server runs in its own process on 127.0.0.1 and answers every request
with a short `200 OK` after `--latency` seconds, so only the client's work differs between
the rows. Each row sends the same assessor-status PUTs (`xsiType` and two fields as query
parameters), `--concurrency` in flight, and reports the client process's CPU time per
request (user + system, all threads) and the wall time against the latency floor. The rows:
the client's `HttpCore` on its default transport (httpx-aiohttp), httpx's own client on the
same transport (`HttpxAiohttpClient`), and httpx's client on its default (httpcore).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx
from httpx_aiohttp import HttpxAiohttpClient

from xnat_client._http import HttpCore
from xnat_client._settings import RetryPolicy, Timeouts

PATH = "/data/experiments/XNAT_E00001/assessors/XNAT_E00002"
PARAMS = {
    "xsiType": "proc:genProcData",
    "proc:genProcData/procstatus": "JOB_RUNNING",
    "proc:genProcData/jobid": "12345.cluster",
}

_SERVER = """
import asyncio, sys
LATENCY = float(sys.argv[1])
ANSWER = b"HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 2\\r\\n\\r\\nOK"

class Peer(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""
    def data_received(self, data):
        self.buffer += data
        while (end := self.buffer.find(b"\\r\\n\\r\\n")) >= 0:
            length = 0
            for line in self.buffer[:end].split(b"\\r\\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            asyncio.get_running_loop().call_later(LATENCY, self.transport.write, ANSWER)

async def main():
    server = await asyncio.get_running_loop().create_server(Peer, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"""

Send = Callable[[], Awaitable[None]]


async def _measure(send: Send, requests: int, concurrency: int) -> tuple[float, float]:
    """(CPU seconds per request, wall seconds) for `requests` sends, `concurrency` at once."""
    await send()  # connect and warm up outside the measurement
    limiter = anyio.CapacityLimiter(concurrency)

    async def one() -> None:
        async with limiter:
            await send()

    cpu, wall = time.process_time(), time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(requests):
            tg.start_soon(one)
    return (time.process_time() - cpu) / requests, time.perf_counter() - wall


async def xnat_client_path(url: str, requests: int, concurrency: int) -> tuple[float, float]:
    core = HttpCore(
        url,
        credentials=None,
        transport=None,
        concurrency=concurrency,
        timeouts=Timeouts(),
        retry=RetryPolicy(),
        user_agent="http-bench",
    )

    async def send() -> None:
        await core.request("PUT", PATH, params=PARAMS)

    try:
        return await _measure(send, requests, concurrency)
    finally:
        await core.aclose()


async def plain_httpx(url: str, requests: int, concurrency: int) -> tuple[float, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits) as client:
        return await _measure(_putter(client), requests, concurrency)


async def httpx_on_aiohttp(url: str, requests: int, concurrency: int) -> tuple[float, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with HttpxAiohttpClient(base_url=url, limits=limits) as client:
        return await _measure(_putter(client), requests, concurrency)


def _putter(client: httpx.AsyncClient) -> Send:
    async def send() -> None:
        (await client.put(PATH, params=PARAMS)).raise_for_status()

    return send


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1].strip())
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.02)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(args.latency)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        floor = args.requests * args.latency / args.concurrency
        print(f"{args.requests} PUTs, {args.concurrency} in flight, {args.latency * 1000:.0f} ms "
              f"latency: floor {floor:.2f} s")  # fmt: skip
        rows = [
            ("xnat_client (httpx-aiohttp)", xnat_client_path),
            ("HttpxAiohttpClient", httpx_on_aiohttp),
            ("httpx.AsyncClient (httpcore)", plain_httpx),
        ]
        for name, run in rows:
            cpu, wall = asyncio.run(run(url, args.requests, args.concurrency))
            print(f"  {name:28s} {cpu * 1000:6.3f} ms CPU per request, wall {wall:5.2f} s")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
