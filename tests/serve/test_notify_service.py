"""
The service tells: a job that fails is one alert after the sweep that found it, the day's
digest goes once, and a restarted service says neither again (the record is in XNAT).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aspider.settings import NotifySection
from tests.notify.receivers import Inbox, smtp_server
from tests.serve.conftest import (
    archive_session,
    running_service,
    runs_processor,
    service_settings,
    until,
)
from xnat_client.sandbox import XnatServer

pytestmark = pytest.mark.anyio


def _kinds(inbox: Inbox) -> list[str]:
    return [m.header("X-Aspider-Kind") for m in inbox.mails]


def _alerts(inbox: Inbox) -> list[str]:
    return [
        m.header("X-Aspider-Problem") for m in inbox.mails if m.header("X-Aspider-Kind") == "alert"
    ]


async def test_a_restarted_service_tells_neither_an_alert_nor_the_digest_twice(
    server: XnatServer, xnat_url: str, tmp_path: Path
) -> None:
    """BAD1 fails: one alert, one digest; restarted, BAD2 fails: its alert only."""
    runs = tmp_path / "runs"
    processor = runs_processor(tmp_path / "procs", runs, fail_on="BAD*")
    with smtp_server(tmp_path) as mail:
        notify = NotifySection.model_validate(
            {
                "email": mail.settings(["ops@lab.test"]),
                "digest_at": "00:00",  # long past: a service started today owes today's digest
                "state_dir": str(tmp_path / "state"),
            }
        )
        base = service_settings(xnat_url, tmp_path / "work", follow_interval=0.2)
        settings = base.model_copy(update={"notify": notify})
        await archive_session(xnat_url, "S1", "BAD1")
        async with running_service(settings, [processor]):
            await until(lambda: len(_alerts(mail.inbox)) == 1 and "digest" in _kinds(mail.inbox))
        assert sorted(_kinds(mail.inbox)) == ["alert", "digest"]

        await archive_session(xnat_url, "S2", "BAD2")
        async with running_service(settings, [processor]):
            await until(lambda: len(_alerts(mail.inbox)) == 2)
    assert sorted(_kinds(mail.inbox)) == ["alert", "alert", "digest"]
    first, second = _alerts(mail.inbox)
    assert "BAD1" in first
    assert "BAD2" in second
