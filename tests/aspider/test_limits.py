"""The queue limits the commands plan with: the local executor is never unlimited."""

from __future__ import annotations

import os

import pytest

from aspider.run.commands.runner import plan_limits, sweep_options
from aspider.settings import AspiderSettings, ClusterSection, LimitsSection


@pytest.fixture(autouse=True)
def _no_env_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("ASPIDER_"):
            monkeypatch.delenv(key)


def test_local_executor_without_a_limit_runs_as_many_jobs_as_cores() -> None:
    settings = AspiderSettings(cluster=ClusterSection(executor="local"))
    assert plan_limits(settings).max_queued == (os.cpu_count() or 1)
    assert sweep_options(settings).limits.max_queued == (os.cpu_count() or 1)


def test_a_set_limit_wins_for_the_local_executor() -> None:
    settings = AspiderSettings(
        cluster=ClusterSection(executor="local"),
        limits=LimitsSection(max_queued=50, max_queued_per_processor=7),
    )
    limits = plan_limits(settings)
    assert (limits.max_queued, limits.max_queued_per_processor) == (50, 7)


def test_the_cluster_queue_is_unlimited_unless_set() -> None:
    """A scheduler queues what it cannot run yet; the limit there is the lab's choice."""
    settings = AspiderSettings(cluster=ClusterSection(executor="pbs", host="hpc.example.org"))
    assert plan_limits(settings).max_queued is None
