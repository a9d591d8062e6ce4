"""
The service's Prometheus metrics, in a registry of its own (so two services in one process,
as in the tests, never share counters).

    aspider_sweeps_total{project,kind}           sweeps run (kind: full, sessions, jobs)
    aspider_sweep_failures_total{project,kind}   sweeps that raised or reported a failure
    aspider_sweep_seconds{kind}                  how long sweeps take
    aspider_actions_total{project,proctype,what} what sweeps did (created, submitted, ...)
    aspider_events_total{kind}                   POSTs taken, poll changes, ended jobs seen
    aspider_events_refused_total{reason}         POSTs refused (auth, label, body)
    aspider_event_to_submission_seconds          from an event (or a seen change) to the sweep
                                                 that submitted that session's jobs
    aspider_tasks{project,proctype,status}       tasks by status, as of the last snapshot
    aspider_jobs{project,state}                  jobs queued and running, as of the last poll
    aspider_xnat_requests_total                  HTTP requests sent to XNAT
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.5, 1, 2, 3, 5, 10, 30, 60, 120, 300, 900, 3600)


class _Requests(Collector):
    """XNAT requests as the client counts them (read at scrape time, never double counted)."""

    def __init__(self, read: Callable[[], int]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily("aspider_xnat_requests", "HTTP requests sent to XNAT")
        family.add_metric([], float(self._read()))
        yield family


class ServiceMetrics:
    """Every metric the service updates, registered in its own registry."""

    def __init__(self, xnat_requests: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.sweeps = Counter("aspider_sweeps", "Sweeps run", ["project", "kind"], registry=r)
        self.sweep_failures = Counter(
            "aspider_sweep_failures", "Sweeps that failed", ["project", "kind"], registry=r
        )
        self.sweep_seconds = Histogram(
            "aspider_sweep_seconds", "Sweep duration", ["kind"], registry=r
        )
        self.actions = Counter(
            "aspider_actions", "Actions by kind", ["project", "proctype", "what"], registry=r
        )
        self.events = Counter("aspider_events", "Events taken", ["kind"], registry=r)
        self.refused = Counter("aspider_events_refused", "POSTs refused", ["reason"], registry=r)
        self.latency = Histogram(
            "aspider_event_to_submission_seconds",
            "From an event or seen change to its session's submission",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.tasks = Gauge(
            "aspider_tasks", "Tasks by status", ["project", "proctype", "status"], registry=r
        )
        self.jobs = Gauge("aspider_jobs", "Jobs by state", ["project", "state"], registry=r)
        r.register(_Requests(xnat_requests))
        self._task_keys: dict[str, set[tuple[str, str]]] = {}

    def set_tasks(self, project: str, matrix: Mapping[str, Mapping[str, int]]) -> None:
        """The counts of the latest snapshot; a status no task has any more reads 0."""
        keys = {(p, s) for p, counts in matrix.items() for s in counts}
        for proctype, status in self._task_keys.get(project, set()) - keys:
            self.tasks.labels(project, proctype, status).set(0)
        for proctype, counts in matrix.items():
            for status, n in counts.items():
                self.tasks.labels(project, proctype, status).set(n)
        self._task_keys[project] = keys

    def set_jobs(self, project: str, queued: int, running: int) -> None:
        self.jobs.labels(project, "queued").set(queued)
        self.jobs.labels(project, "running").set(running)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
