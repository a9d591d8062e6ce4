"""`aspider` as a process over the real wire: TLS settings, a proxy, and `aspider sandbox --tls`."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from pathlib import Path

import anyio
import pytest
import trustme

from tests.xnat_client.test_client_proxy import PROXY_VARIABLES, running_proxy
from xnat_client.sandbox import XnatServer, generate_project, serve_tcp

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).parents[2] / "examples" / "processors"
ASPIDER = [sys.executable, "-c", "from aspider.cli import main; main()"]


def _env(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a user with these settings, and nothing from this machine's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ASPIDER_") and k.upper() not in PROXY_VARIABLES
    }
    env.update(
        ASPIDER_XNAT__URL=url,
        ASPIDER_XNAT__USER="admin",
        ASPIDER_XNAT__PASSWORD="admin-pw",
        ASPIDER_XNAT__RETRY__ATTEMPTS="2",
        ASPIDER_XNAT__RETRY__BACKOFF_INITIAL="0.01",
        ASPIDER_PROCESSOR_PATHS=json.dumps([str(EXAMPLES)]),
        ASPIDER_CLUSTER__WORK_ROOT=str(tmp_path / "work"),
        COLUMNS="80",
        **extra,
    )
    return env


def _server() -> XnatServer:
    server = XnatServer(users={"admin": "admin-pw"})
    generate_project(server, "DEMO", sessions=3, seed=5)
    return server


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A PEM key+chain for `localhost` and the CA that signed it (never trusted by the system)."""
    ca = trustme.CA()
    pem, ca_pem = tmp_path / "server.pem", tmp_path / "ca.pem"
    ca.issue_cert("localhost").private_key_and_cert_chain_pem.write_to_path(str(pem))
    ca.cert_pem.write_to_path(str(ca_pem))
    return pem, ca_pem


async def test_run_over_tls_with_the_ca_bundle_setting(tmp_path: Path) -> None:
    """A private CA named by xnat.ca_bundle: the plan of a sweep over https://localhost."""
    pem, ca_pem = _certificate(tmp_path)
    async with serve_tcp(_server(), certfile=pem) as url:
        env = _env(url, tmp_path, ASPIDER_XNAT__CA_BUNDLE=str(ca_pem))
        with anyio.fail_after(60):
            done = await anyio.run_process(
                [*ASPIDER, "run", "DEMO", "--dry-run", "--json"], env=env, check=False
            )
    assert done.returncode == 0, done.stderr.decode()
    plan = json.loads(done.stdout)
    assert len(plan["sessions"]) == 3


async def test_run_over_tls_without_the_ca_fails_with_a_certificate_error(
    tmp_path: Path,
) -> None:
    """Without the CA: exit 1, one line naming the certificate and the setting that fixes it."""
    pem, _ = _certificate(tmp_path)
    async with serve_tcp(_server(), certfile=pem) as url:
        env = _env(url, tmp_path)
        with anyio.fail_after(60):
            done = await anyio.run_process(
                [*ASPIDER, "run", "DEMO", "--dry-run"], env=env, check=False
            )
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert "certificate" in err.lower()
    assert "ca_bundle" in err
    assert "Traceback" not in err


async def test_run_over_tls_with_verify_off_works_and_warns(tmp_path: Path) -> None:
    """xnat.verify false: the sweep's plan is made, and a warning says checking is off."""
    pem, _ = _certificate(tmp_path)
    async with serve_tcp(_server(), certfile=pem) as url:
        env = _env(url, tmp_path, ASPIDER_XNAT__VERIFY="false")
        with anyio.fail_after(60):
            done = await anyio.run_process(
                [*ASPIDER, "run", "DEMO", "--dry-run", "--json"], env=env, check=False
            )
    assert done.returncode == 0, done.stderr.decode()
    assert "verif" in done.stderr.decode().lower()


async def test_run_through_a_proxy_only_it_can_resolve(tmp_path: Path) -> None:
    """HTTP_PROXY set, XNAT's host name known only to the proxy: the plan comes through it."""
    server = _server()
    name = "xnat.invalid"
    async with serve_tcp(server) as direct, running_proxy({name: "127.0.0.1"}) as (proxy, at):
        env = _env(direct.replace("127.0.0.1", name), tmp_path, HTTP_PROXY=at)
        with anyio.fail_after(60):
            done = await anyio.run_process(
                [*ASPIDER, "run", "DEMO", "--dry-run", "--json"], env=env, check=False
            )
    assert done.returncode == 0, done.stderr.decode()
    assert len(json.loads(done.stdout)["sessions"]) == 3
    assert proxy.seen
    assert all(target.startswith(f"http://{name}:") for _, target in proxy.seen)
    assert len(server.requests) == len(proxy.seen)


async def test_sandbox_over_tls_with_its_own_user_serves_aspider(tmp_path: Path) -> None:
    """`aspider sandbox --tls` prints its CA; `aspider status` trusting it reads the project."""
    argv = [*ASPIDER, "sandbox", "--port", "0", "--tls", "--tls-dir", str(tmp_path / "tls")]
    argv += ["--user", "ann", "--password", "ann-pw", "--sessions", "2"]
    argv += ["--scans-per-session", "2", "--scan-types", "T1w,DWI", "--assessors-per-session", "0"]
    async with await anyio.open_process(argv) as sandbox:
        assert sandbox.stdout is not None
        with anyio.fail_after(60):
            printed = ""
            while "Ctrl-C" not in printed:
                printed += (await sandbox.stdout.receive()).decode()
            url = re.search(r"https://127\.0\.0\.1:\d+", printed)
            ca = re.search(r"CA certificate: (\S+)", printed)
            assert url is not None
            assert ca is not None
            env = _env(url.group(0), tmp_path, ASPIDER_XNAT__CA_BUNDLE=ca.group(1))
            env.update(ASPIDER_XNAT__USER="ann", ASPIDER_XNAT__PASSWORD="ann-pw")
            done = await anyio.run_process(
                [*ASPIDER, "status", "DEMO", "--xnat-only", "--json"], env=env, check=False
            )
            sandbox.send_signal(signal.SIGINT)
            await sandbox.wait()
    assert "ann-pw" not in printed
    assert done.returncode == 0, done.stderr.decode()
    status = json.loads(done.stdout)
    assert status["project"] == "DEMO"
