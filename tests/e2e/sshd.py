"""Stopping and starting the loopback cluster's sshd for real, to test outages."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.conftest import ClusterProfile


class Sshd:
    """The cluster's sshd: `stop()` kills it and every connection it serves; `start()` again."""

    def __init__(self, cluster: ClusterProfile) -> None:
        self.dir = cluster.cluster_dir
        self.port = cluster.port

    @property
    def _pid_file(self) -> Path:
        return self.dir / "run" / "sshd.pid"

    def stop(self) -> None:
        master = int(self._pid_file.read_text().split()[0])
        for pid in [*_children(master), master]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10  # hang guard
        while self.accepting():
            assert time.monotonic() < deadline, "sshd did not stop"
            time.sleep(0.05)

    def start(self) -> None:
        config, log = self.dir / "etc" / "sshd_config", self.dir / "log" / "sshd.log"
        subprocess.run(["/usr/sbin/sshd", "-f", str(config), "-E", str(log)], check=True)
        deadline = time.monotonic() + 10  # hang guard
        while not self.accepting():
            assert time.monotonic() < deadline, "sshd did not start"
            time.sleep(0.05)

    def accepting(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False


def _children(parent: int) -> list[int]:
    """Every process whose parent is `parent`: sshd's per-connection processes."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return found
