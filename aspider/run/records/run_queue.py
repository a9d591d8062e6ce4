"""
One queue budget for a whole run or service, across its projects.

A site's `max_queued` (and `max_queued_per_processor`) is a promise to the cluster's admins
about everything aspider runs there, not per project. Each project's sweep plans with the
limits less what the other projects hold (their jobs queued or running, as their last plan
left them), and records its own the moment it has planned, with no await in between, so two
projects' sweeps in one event loop never both take the last place.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from aspider.plan import Plan, PlanLimits


class RunQueue:
    """Every project's jobs in the queue, as the run last planned or submitted them."""

    def __init__(self) -> None:
        self._total: dict[str, int] = {}
        self._per: dict[str, dict[str, int]] = {}

    def limits_for(self, project: str, limits: PlanLimits) -> PlanLimits:
        """`limits`, with the other projects' jobs counted against them."""
        total = sum(n for p, n in self._total.items() if p != project)
        per: dict[str, int] = defaultdict(int)
        for p, counts in self._per.items():
            if p != project:
                for proctype, n in counts.items():
                    per[proctype] += n
        return replace(limits, elsewhere=total, elsewhere_per_processor=tuple(sorted(per.items())))

    def record(self, project: str, plan: Plan) -> None:
        """What the project's plan leaves in the queue once its submissions are made."""
        self._total[project], self._per[project] = plan.queued_after()

    def took(self, project: str, proctype: str) -> None:
        """One more job of the project's in the queue (a submission made after the plan)."""
        self._total[project] = self._total.get(project, 0) + 1
        counts = self._per.setdefault(project, {})
        counts[proctype] = counts.get(proctype, 0) + 1

    def holds(self, project: str) -> int:
        """The project's jobs in the queue as last recorded."""
        return self._total.get(project, 0)
