"""
The machine `pbs` runs on: commands and files here (`LocalTransport`), and jobs as detached
processes with the same contract as a cluster's (`LocalClient`).
"""

from ._local_jobs import LocalClient
from ._local_transport import LocalTransport

__all__ = ["LocalClient", "LocalTransport"]
