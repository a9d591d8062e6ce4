"""Fixtures for engine tests: the XNAT-compatible server in-process and a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from aspider.processors import Processor, load_processors
from xnat_client import Credentials, RetryPolicy, XnatClient
from xnat_client.sandbox import XnatServer, serve_tcp

DEMO_PROCESSORS = Path(__file__).resolve().parents[2] / "aspider" / "demo" / "processors"


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
async def tcp_xnat(server: XnatServer) -> AsyncIterator[XnatClient]:
    """A client of the same server over real HTTP on 127.0.0.1, for tests about the wire."""
    async with serve_tcp(server) as url:
        client = XnatClient(
            url,
            credentials=Credentials.password("admin", "admin"),
            retry=RetryPolicy(attempts=4, backoff_initial=0.01, backoff_max=0.05, budget=5),
        )
        async with client:
            yield client


# A scan-level shell processor on the T1w NIFTI, staged as INPUTS/t1.nii.gz; the script varies.
T1_SHELL_PROCESSOR = """\
procyamlversion: 3.0.0-dev.0
level: scan
requirements: {walltime: '0-00:05', memory: 128M, ppn: 1}
inputs:
  xnat:
    scans:
      - name: scan_t1
        types: T1w
        resources:
          - resource: NIFTI
            fmatch: '*.nii.gz'
            fdest: t1.nii.gz
outputs:
  - stats: out.txt
command:
  type: shell
  script: %s
"""


def shell_processor(folder: Path, name: str, script: str, top: str = "") -> Processor:
    """Write `<name>_v1.0.0.yaml` with the given (YAML-quoted) script and load it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}_v1.0.0.yaml"
    path.write_text(top + T1_SHELL_PROCESSOR % script)
    (processor,) = load_processors([path])
    return processor


@pytest.fixture
def demo_processors() -> list[Processor]:
    return list(load_processors([DEMO_PROCESSORS]))
