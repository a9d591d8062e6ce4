"""
Slurm natively: sbatch with `#SBATCH` directives or a DAX job template, squeue and sacct read in
batches, scancel and `scontrol release`.
"""

from ._sbatch_script import JobTemplate, render_slurm_script
from ._slurm_client import SlurmClient
from ._squeue_sacct import parse_sacct, parse_squeue

__all__ = ["JobTemplate", "SlurmClient", "parse_sacct", "parse_squeue", "render_slurm_script"]
