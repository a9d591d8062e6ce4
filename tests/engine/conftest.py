"""Fixtures for engine tests: the XNAT-compatible server in-process and a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from aspider.processors import Processor, load_processors
from xnat_client import Credentials, RetryPolicy, XnatClient
from xnat_client.server import XnatServer

DEMO_PROCESSORS = Path(__file__).resolve().parents[2] / "aspider" / "demo_processors"


@pytest.fixture
def server() -> XnatServer:
    return XnatServer()


@pytest.fixture
async def xnat(server: XnatServer) -> AsyncIterator[XnatClient]:
    client = XnatClient(
        "http://xnat.test",
        credentials=Credentials.password("admin", "admin"),
        transport=httpx.ASGITransport(app=server.app),
        retry=RetryPolicy(attempts=8, backoff_initial=0.001, backoff_max=0.01, budget=5),
    )
    async with client:
        yield client


@pytest.fixture
def demo_processors() -> list[Processor]:
    return list(load_processors([DEMO_PROCESSORS]))
