"""
Fixtures shared by every test tier: the async backend and the loopback cluster's profile (the
cluster itself, and its bastion, login node behind it and ssh config: `extras`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pbs import SshSettings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def anyio_backend() -> str:
    """asyncssh only runs on asyncio, so every async test does too."""
    return "asyncio"


@dataclass(frozen=True)
class ClusterProfile:
    """What tests/cluster/up wrote: how to reach the loopback cluster."""

    host: str
    port: int
    user: str
    key_path: Path
    known_hosts: Path
    work_root: Path
    slurm_conf: Path
    cluster_dir: Path

    def cluster_settings(self, executor: str, work_root: Path, **more: Any) -> dict[str, Any]:
        """The `cluster:` settings of a site that uses this cluster over SSH, as a user writes
        them (host key verified against its known_hosts); `more` adds or replaces keys."""
        return {
            "executor": executor,
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "key_path": str(self.key_path),
            "known_hosts": str(self.known_hosts),
            "work_root": str(work_root),
            **more,
        }

    def ssh_settings(self) -> SshSettings:
        """How the tests reach the cluster's sshd: its key, its known_hosts, verified."""
        return SshSettings(
            host=self.host,
            port=self.port,
            user=self.user,
            key_path=self.key_path,
            known_hosts=self.known_hosts,
        )


def _profile_path() -> Path:
    default = REPO / ".cluster" / "profile.json"
    return Path(os.environ.get("ASPIDER_CLUSTER_PROFILE", default))


def load_cluster_profile() -> ClusterProfile | None:
    path = _profile_path()
    if not path.exists():
        return None
    raw = json.loads(path.read_text())
    return ClusterProfile(
        host=raw["host"],
        port=int(raw["port"]),
        user=raw["user"],
        key_path=Path(raw["key_path"]),
        known_hosts=Path(raw["known_hosts"]),
        work_root=Path(raw["work_root"]),
        slurm_conf=Path(raw["slurm_conf"]),
        cluster_dir=Path(raw["cluster_dir"]),
    )


@pytest.fixture(scope="session")
def cluster() -> ClusterProfile:
    """The loopback cluster; skips without one, except under CI where a missing cluster fails."""
    profile = load_cluster_profile()
    if profile is None:
        reason = f"no loopback cluster: run `sudo tests/cluster/up` (looked for {_profile_path()})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return profile


@dataclass(frozen=True)
class Hop:
    """One sshd of the loopback cluster as the ssh config names it."""

    alias: str
    host: str
    port: int
    host_key: str


@dataclass(frozen=True)
class ClusterExtras:
    """What tests/cluster/up adds for the Slurm and jump-host tests."""

    ssh_config: Path
    bastion: Hop
    behind_bastion: Hop
    accounting: bool
    memory_enforcement: str


def _hop(raw: dict[str, Any]) -> Hop:
    return Hop(raw["alias"], raw["host"], int(raw["port"]), raw["host_key"])


@pytest.fixture(scope="session")
def extras(cluster: ClusterProfile) -> ClusterExtras:
    """The bastion, the login node behind it, the ssh config; fails if up did not write them."""
    raw = json.loads((cluster.cluster_dir / "profile.json").read_text())
    missing = {"ssh_config", "bastion", "behind_bastion"} - raw.keys()
    if missing:
        pytest.fail(
            f"profile.json lacks {sorted(missing)}: tests/cluster/up could not start the "
            "bastion (see its warnings; it needs network namespaces, `unshare --net`)"
        )
    return ClusterExtras(
        ssh_config=Path(raw["ssh_config"]),
        bastion=_hop(raw["bastion"]),
        behind_bastion=_hop(raw["behind_bastion"]),
        accounting=bool(raw.get("accounting")),
        memory_enforcement=str(raw.get("memory_enforcement")),
    )
