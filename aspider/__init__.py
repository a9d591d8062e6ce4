"""
aspider: the engine and the command line.

It walks XNAT projects, decides which processors are due for each session, creates their
assessors, stages inputs, submits one job per assessor and uploads the outputs when the job ends.

Imports: `aspider` may use `pbs` (the cluster) and `xnat_client` (XNAT). Nothing imports `aspider`.
Its layers are subpackages, lowest first: `processors` (what a pipeline is), `plan` (pure
decisions), `run` (the engine: XNAT and the cluster), `demo`, `cli`; each `__init__` says what it
may import, and import-linter's contracts in pyproject.toml check it.
"""

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
    UploadMismatch,
)

__version__ = "0.1.0"

__all__ = [
    "AspiderError",
    "ConfigError",
    "InputsMissing",
    "LeaseHeld",
    "LeaseLost",
    "OutputsMissing",
    "ProcessorCycleError",
    "ProcessorError",
    "StagingError",
    "UploadMismatch",
    "__version__",
]
