"""
pbs: an async driver for PBS clusters (PBS Pro / OpenPBS and Torque), locally or over SSH.

It renders job scripts, submits them with `qsub`, reads job states in batches and moves files to
and from job directories. A library on its own: it never imports `aspider` or `xnat_client`.
"""
