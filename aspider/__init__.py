"""
aspider: the engine and the command line.

It walks XNAT projects, decides which processors are due for each session, creates their
assessors, stages inputs, submits one job per assessor and uploads the outputs when the job ends.

Imports: `aspider` may use `pbs` (the cluster) and `xnat_client` (XNAT). Nothing imports `aspider`.
"""

__version__ = "0.1.0"
