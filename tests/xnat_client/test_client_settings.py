"""The settings model: its defaults, the retry budget rule, and checks made at validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from xnat_client import RetryPolicy, Timeouts, XnatSettings


def test_a_hung_attempt_does_not_use_up_the_budget() -> None:
    """An attempt that started at 0 s may be retried even though it failed after 120 s."""
    policy = RetryPolicy(budget=60.0)
    assert Timeouts().read > policy.budget
    assert policy.may_retry(0, last_start=0.0, delay=0.5)


def test_retries_stop_once_the_budget_has_passed() -> None:
    """A retry that would start past the budget, or past the attempts, is not made."""
    policy = RetryPolicy(attempts=5, budget=10.0)
    assert not policy.may_retry(1, last_start=9.8, delay=0.5)
    assert not policy.may_retry(4, last_start=0.0, delay=0.0)
    assert policy.may_retry(3, last_start=9.0, delay=0.5)


def test_settings_state_tls_and_proxy_defaults() -> None:
    """Certificates checked against the system store, proxy from the environment."""
    settings = XnatSettings(url="https://xnat.example.org")
    assert (settings.verify, settings.ca_bundle, settings.proxy) == (True, None, None)
    assert settings.concurrency == 16


def test_settings_refuse_unknown_keys() -> None:
    """A misspelt key is an error, not a silently ignored setting."""
    with pytest.raises(ValidationError, match="verfy"):
        XnatSettings.model_validate({"url": "https://x.org", "verfy": False})


def test_the_effective_proxy_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """None takes HTTPS_PROXY unless NO_PROXY names the host; "" and a URL override it."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.org:3128")
    url = "https://xnat.example.org/xnat"
    assert XnatSettings(url=url).effective_proxy() == "http://proxy.example.org:3128"
    assert XnatSettings(url=url, proxy="").effective_proxy() is None
    assert XnatSettings(url=url, proxy="http://other:8080").effective_proxy() == (
        "http://other:8080"
    )
    assert XnatSettings(url="http://xnat.example.org").effective_proxy() is None
    monkeypatch.setenv("NO_PROXY", ".example.org")
    assert XnatSettings(url=url).effective_proxy() is None
