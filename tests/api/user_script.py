"""
A user's script on the public API alone: `mypy --strict` checks it (tests/api/test_api_types.py),
so a change that breaks the API's types for users fails the suite.
"""

from __future__ import annotations

import anyio

import aspider
from aspider.sync import Spider as BlockingSpider


def runnable_labels(spider: BlockingSpider, project: str) -> list[str]:
    return [t.label for t in spider.tasks(project) if t.can_run and not t.has_run]


async def why_not(project: str, session: str) -> dict[str, tuple[str, ...]]:
    async with aspider.Spider.from_settings() as spider:
        tasks: list[aspider.TaskView] = await spider.explain(project, session)
        plan: aspider.PlanView = await spider.plan(project)
        print(len(plan.actions), plan.to_dict()["deferred"])
        return {t.label: t.reasons for t in tasks if not t.can_run}


def loop_b(spider: BlockingSpider, project: str, processor: str) -> bool:
    done: aspider.SweepView = spider.sweep(project, processors=processor, wait=True)
    status: aspider.StatusView = spider.status(project)
    return done.ok and all(set(c) <= {"COMPLETE"} for c in status.counts.values())


def try_first(spider: BlockingSpider, path: str, project: str, session: str) -> list[str]:
    tried: aspider.TrialView = spider.trial(path, project, session, keep=True)
    return [line for t in tried.tasks for line in t["log_tail"]] if tried.ok else []


def stale_reasons(spider: BlockingSpider, project: str) -> dict[str, str]:
    found: list[aspider.StaleView] = spider.stale(project, processor="fs7")
    return {s.label: s.reason for s in found if "inputs" in s.kinds}


async def stale_ids(project: str) -> list[str]:
    async with aspider.Spider.from_settings() as spider:
        return [s.assessor_id for s in await spider.stale(project)]


if __name__ == "__main__":
    print(anyio.run(why_not, "DEMO", "DEMO_S00001_MR1"))
