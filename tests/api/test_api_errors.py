"""What a Python caller is told when XNAT refuses the login: whose password, from where."""

from __future__ import annotations

import httpx
import pytest

from aspider._exceptions import ConfigError
from aspider.run import Wiring
from aspider.sync import Spider
from xnat_client.sandbox import XnatServer, generate_project


def test_a_password_given_in_code_is_blamed_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """xnat.password passed to from_settings, wrong: the message says so, never the password."""
    monkeypatch.delenv("ASPIDER_XNAT__PASSWORD", raising=False)
    server = XnatServer()
    generate_project(server, "DEMO", sessions=1)
    wiring = Wiring(httpx.ASGITransport(app=server.app))
    xnat = {"url": "http://xnat.test", "user": "admin", "password": "not-it"}
    spider = Spider.from_settings(wiring=wiring, xnat=xnat)
    with spider, pytest.raises(ConfigError) as err:
        spider.status("DEMO")
    said = str(err.value)
    assert "refused user 'admin' with the password from the settings given" in said
    assert "ASPIDER_XNAT__PASSWORD" not in said
    assert "not-it" not in said
