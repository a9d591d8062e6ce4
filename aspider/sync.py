"""
The `Spider` without `await`, for scripts and notebooks.

Each call runs the async `Spider`'s coroutine on an anyio blocking portal: an event loop of its
own in a worker thread, so it works from plain code and from inside a running loop alike
(Jupyter runs one; `asyncio.run` there would refuse).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from aspider.api import (
    PlanView,
    ProcessorChoice,
    StaleView,
    StatusView,
    SweepView,
    TaskView,
    TrialView,
)
from aspider.api import Spider as AsyncSpider
from aspider.plan import ProcessorUsage
from aspider.processors import Processor
from aspider.run import NETWORK, Wiring
from aspider.settings import AspiderSettings

T = TypeVar("T")

__all__ = ["Spider"]


class Spider:
    """`aspider.Spider` with blocking methods; `close()` (or `with`) ends its portal."""

    def __init__(self, settings: AspiderSettings, *, wiring: Wiring = NETWORK) -> None:
        self.spider = AsyncSpider(settings, wiring=wiring)
        self._portal_cm = start_blocking_portal()
        self._portal: BlockingPortal | None = self._portal_cm.__enter__()

    @classmethod
    def from_settings(
        cls, path: str | Path | None = None, *, wiring: Wiring = NETWORK, **overrides: Any
    ) -> Spider:
        """Settings as the CLI finds them; see `aspider.Spider.from_settings`."""
        return cls(AsyncSpider.from_settings(path, **overrides).settings, wiring=wiring)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the portal's thread; the spider cannot be used after."""
        if self._portal is not None:
            self._portal = None
            self._portal_cm.__exit__(None, None, None)

    def _call(self, run: Callable[[], Awaitable[T]]) -> T:
        if self._portal is None:
            raise RuntimeError("this Spider is closed")

        async def call() -> T:
            return await run()

        return self._portal.call(call)

    def processors(self, choice: ProcessorChoice = None) -> list[Processor]:
        return self.spider.processors(choice)

    def tasks(
        self, project: str, processor: ProcessorChoice = None, session: str | None = None
    ) -> list[TaskView]:
        return self._call(lambda: self.spider.tasks(project, processor, session))

    def explain(
        self, project: str, session: str, processor: ProcessorChoice = None
    ) -> list[TaskView]:
        return self._call(lambda: self.spider.explain(project, session, processor))

    def plan(
        self,
        projects: str | Sequence[str],
        processors: ProcessorChoice = None,
        sessions: Sequence[str] = (),
    ) -> PlanView:
        return self._call(lambda: self.spider.plan(projects, processors, sessions))

    def sweep(
        self,
        projects: str | Sequence[str],
        processors: ProcessorChoice = None,
        sessions: Sequence[str] = (),
        *,
        wait: bool = False,
        interval: float = 60.0,
    ) -> SweepView:
        return self._call(
            lambda: self.spider.sweep(projects, processors, sessions, wait=wait, interval=interval)
        )

    def trial(
        self,
        processor_file: str | Path,
        project: str,
        session: str,
        *,
        keep: bool = False,
        interval: float = 15.0,
    ) -> TrialView:
        return self._call(
            lambda: self.spider.trial(
                processor_file, project, session, keep=keep, interval=interval
            )
        )

    def status(self, project: str) -> StatusView:
        return self._call(lambda: self.spider.status(project))

    def stale(self, project: str, processor: ProcessorChoice = None) -> list[StaleView]:
        return self._call(lambda: self.spider.stale(project, processor))

    def usage(
        self,
        projects: str | Sequence[str],
        processor: ProcessorChoice = None,
        since_days: int | None = None,
    ) -> list[ProcessorUsage]:
        return self._call(lambda: self.spider.usage(projects, processor, since_days))
