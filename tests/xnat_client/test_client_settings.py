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
