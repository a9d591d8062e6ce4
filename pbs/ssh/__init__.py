"""
Commands and files on a cluster's login node over SSH (asyncssh): ssh config aliases, jump
hosts, host keys verified from known_hosts, one connection with a pool of channels.
"""

from ._settings import SshSettings
from ._ssh_transport import SshTransport

__all__ = ["SshSettings", "SshTransport"]
