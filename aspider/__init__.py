"""
aspider: the engine and the command line.

It walks XNAT projects, decides which processors are due for each session, creates their
assessors, stages inputs, submits one job per assessor and uploads the outputs when the job ends.

Imports: `aspider` may use `pbs` (the cluster) and `xnat_client` (XNAT). Nothing imports `aspider`.
Its layers are subpackages, lowest first: `processors` (what a pipeline is), `plan` (pure
decisions), `run` (the engine: XNAT and the cluster), `demo`, `cli`; each `__init__` says what it
may import, and import-linter's contracts in pyproject.toml check it.
"""

from typing import TYPE_CHECKING, Any

from aspider._exceptions import (
    AspiderError,
    ConfigError,
    InputsMissing,
    LeaseHeld,
    LeaseLost,
    OutputsMissing,
    ProcessorCycleError,
    ProcessorError,
    StagingError,
    TrialInTheWay,
    UploadMismatch,
)

if TYPE_CHECKING:
    from aspider.api import (
        ActionView,
        InputView,
        PlanView,
        Spider,
        StaleView,
        StatusView,
        SweepView,
        TaskView,
        TrialView,
    )
    from aspider.plan import MatchResult, Scope
    from aspider.processors import Processor

__version__ = "0.1.0"

_API = (
    "ActionView",
    "InputView",
    "PlanView",
    "Spider",
    "StaleView",
    "StatusView",
    "SweepView",
    "TaskView",
    "TrialView",
)
# What a Python processor is written with (docs/api.md, "Python processors").
_PROCESSORS = {
    "Processor": "aspider.processors",
    "Scope": "aspider.plan",
    "MatchResult": "aspider.plan",
}


def __getattr__(name: str) -> Any:
    """
    The API's names, imported on first use: `import aspider` stays light, and the command line
    takes its secrets out of the environment before the engine (asyncssh starts processes on
    import) is loaded.
    """
    if name in _API or name in _PROCESSORS:
        import importlib

        return getattr(importlib.import_module(_PROCESSORS.get(name, "aspider.api")), name)
    raise AttributeError(f"module 'aspider' has no attribute {name!r}")


__all__ = [
    "ActionView",
    "AspiderError",
    "ConfigError",
    "InputView",
    "InputsMissing",
    "LeaseHeld",
    "LeaseLost",
    "MatchResult",
    "OutputsMissing",
    "PlanView",
    "Processor",
    "ProcessorCycleError",
    "ProcessorError",
    "Scope",
    "Spider",
    "StagingError",
    "StaleView",
    "StatusView",
    "SweepView",
    "TaskView",
    "TrialInTheWay",
    "TrialView",
    "UploadMismatch",
    "__version__",
]
