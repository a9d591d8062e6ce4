"""
Where jobs run: a PBS or Slurm cluster (locally or over SSH) or this machine's own processes.

Every backend keeps the same job directory contract (`pbs.render_job_script`) and answers
`JobBackend`; the engine never asks which one it has.
"""

from aspider.run.backends.base import ArrayPolicy, JobBackend, combine, job_dir
from aspider.run.backends.local import LocalBackend, job_environment
from aspider.run.backends.prune import prune_job_dirs
from aspider.run.backends.scheduler import SchedulerBackend

__all__ = [
    "ArrayPolicy",
    "JobBackend",
    "LocalBackend",
    "SchedulerBackend",
    "combine",
    "job_dir",
    "job_environment",
    "prune_job_dirs",
]
