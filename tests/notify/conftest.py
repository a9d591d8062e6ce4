"""Fixtures of the notification tests: receivers on 127.0.0.1, and a site to run aspider in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.aspider.processes import clean_env
from tests.notify.receivers import Receiver, SmtpServer, smtp_server, webhook_receiver

# aiosmtpd warns when AUTH is required without STARTTLS (over implicit TLS, or on loopback)
AUTH_WITHOUT_STARTTLS = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning"
)


@pytest.fixture
def mail(tmp_path: Path) -> Iterator[SmtpServer]:
    """A plain SMTP server (no TLS, no login) on 127.0.0.1."""
    with smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def hook() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 that wants a bearer token."""
    with webhook_receiver(token="hook-token-3b9") as receiver:
        yield receiver


@dataclass(frozen=True)
class Site:
    """A settings file in `home`, and the environment aspider runs with there."""

    home: Path
    env: dict[str, str]

    @property
    def settings(self) -> Path:
        return self.home / "aspider.yaml"


def make_site(
    home: Path,
    xnat_url: str,
    processors: Path,
    notify: dict[str, Any],
    *,
    work: str = "work",
    projects: dict[str, Any] | None = None,
    **env: str,
) -> Site:
    """Settings naming XNAT, the processors, a local work root and `notify:`."""
    settings = {
        "xnat": {"url": xnat_url, "user": "admin"},
        "processor_paths": [str(processors)],
        "projects": projects or {"P1": {}},
        "cluster": {"executor": "local", "work_root": str(home / work)},
        "notify": {"state_dir": str(home / "state"), **notify},
    }
    home.mkdir(parents=True, exist_ok=True)
    (home / "aspider.yaml").write_text(yaml.safe_dump(settings))
    environment = clean_env(
        home,
        ASPIDER_XNAT__PASSWORD="admin",
        ASPIDER_NOTIFY__WEBHOOK__TOKEN="hook-token-3b9",
        **env,
    )
    return Site(home, environment)


def webhook(receiver: Receiver) -> dict[str, Any]:
    return {"url": receiver.url}


def loads(lines: str) -> list[dict[str, Any]]:
    """The JSON records of a `--log-format json` stderr."""
    return [json.loads(line) for line in lines.splitlines() if line.startswith("{")]
