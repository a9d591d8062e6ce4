"""The shipped XNAT side: the Event Service notify script POSTs to a running service (curl)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import anyio
import pytest

from tests.serve.conftest import (
    SUBMITTED,
    archive_session,
    running_service,
    runs_processor,
    service_settings,
    statuses,
    until,
)
from xnat_client.sandbox import XnatServer

pytestmark = pytest.mark.anyio

RECIPES = Path(__file__).resolve().parents[2] / "examples" / "xnat"
TOKEN = "recipe-token-0123456789abcdef"


@pytest.fixture
def curl() -> str:
    """curl (tests/browser/up installs it); missing is a failure under CI=true."""
    found = shutil.which("curl")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true and no curl: run `sudo tests/browser/up`")
        pytest.skip("no curl: run `sudo tests/browser/up`")
    return found


async def test_notify_script_gets_the_session_submitted(
    server: XnatServer, xnat_url: str, tmp_path: Path, curl: str
) -> None:
    """notify.sh PROJECT SESSION_ID with the token file: 202, and the session is submitted."""
    token = tmp_path / "token"
    token.write_text(TOKEN)
    proc = runs_processor(tmp_path / "procs", tmp_path / "runs.log")
    settings = service_settings(
        xnat_url, tmp_path / "work", token_file=str(token), sweep_on_start=False
    )
    sid = await archive_session(xnat_url, "S1", "E1")
    async with running_service(settings, [proc]) as url:
        env = {**os.environ, "ASPIDER_URL": url, "ASPIDER_TOKEN_FILE": str(token)}
        script = RECIPES / "event-service" / "notify.sh"
        done = await anyio.run_process(["sh", str(script), "P1", sid], env=env, check=False)
        assert done.returncode == 0, done.stderr
        assert b"answered 202" in done.stdout
        assert TOKEN.encode() not in done.stdout + done.stderr
        await until(lambda: set(statuses(server, "E1")) & SUBMITTED)
        refused = await anyio.run_process(["sh", str(script), "P1", "E1;id"], env=env, check=False)
        assert refused.returncode == 2
