"""
xnat_client: an async XNAT REST client, and an XNAT-compatible server for tests and the demo.

The client reads whole projects in a constant number of requests and writes assessors, resources
and files. A library on its own: it never imports `aspider` or `pbs`.
"""
