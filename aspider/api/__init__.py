"""
aspider from Python: the `Spider` and the plain objects it returns.

The layer beside `demo` and `serve`: it drives the engine through `aspider.run`'s `__all__` and
the pure planner, and users import it as `aspider.Spider` (or `aspider.sync.Spider` without
`await`). docs/api.md is its guide.
"""

# First, before the engine imports asyncssh: a library's warning is not the user's news, in a
# notebook as on the command line (aspider._library_warnings).
from aspider._library_warnings import quiet_library_warnings

quiet_library_warnings()

from aspider.api._spider import ProcessorChoice, Spider  # noqa: E402
from aspider.api._views import (  # noqa: E402
    ActionView,
    InputView,
    PlanView,
    StaleView,
    StatusView,
    SweepView,
    TaskView,
    TrialView,
)

__all__ = [
    "ActionView",
    "InputView",
    "PlanView",
    "ProcessorChoice",
    "Spider",
    "StaleView",
    "StatusView",
    "SweepView",
    "TaskView",
    "TrialView",
]
