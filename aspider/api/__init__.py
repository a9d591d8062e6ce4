"""
aspider from Python: the `Spider` and the plain objects it returns.

The layer beside `demo` and `serve`: it drives the engine through `aspider.run`'s `__all__` and
the pure planner, and users import it as `aspider.Spider` (or `aspider.sync.Spider` without
`await`). docs/api.md is its guide.
"""

from aspider.api._spider import ProcessorChoice, Spider
from aspider.api._views import ActionView, InputView, PlanView, StatusView, SweepView, TaskView

__all__ = [
    "ActionView",
    "InputView",
    "PlanView",
    "ProcessorChoice",
    "Spider",
    "StatusView",
    "SweepView",
    "TaskView",
]
