"""SshTransport against the real OpenSSH server: host keys, reconnects, jump hosts."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import anyio
import asyncssh
import pytest

from pbs import ConnectFailed, HostKeyRejected, SshTransport
from tests.conftest import ClusterProfile
from tests.pbs.conftest import ssh_settings

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


def _other_key_line(cluster: ClusterProfile) -> str:
    key = asyncssh.generate_private_key("ssh-ed25519")
    public = key.export_public_key().decode().split()[:2]
    return f"[{cluster.host}]:{cluster.port} {' '.join(public)}\n"


async def test_changed_host_key_is_refused(cluster: ClusterProfile, tmp_path: Path) -> None:
    """A known_hosts entry with another key for host:port is refused with how to trust it."""
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(_other_key_line(cluster))
    transport = SshTransport(ssh_settings(cluster, known_hosts=known_hosts))
    with anyio.fail_after(30), pytest.raises(HostKeyRejected) as caught:
        await transport.__aenter__()
    message = str(caught.value)
    assert f"ssh-keyscan -p {cluster.port} {cluster.host} >> {known_hosts}" in message
    assert "ssh-keygen -R" in message


async def test_unknown_host_key_is_refused(cluster: ClusterProfile, tmp_path: Path) -> None:
    """An empty known_hosts trusts nothing: no trust on first use."""
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    with anyio.fail_after(30), pytest.raises(HostKeyRejected):
        async with SshTransport(ssh_settings(cluster, known_hosts=known_hosts)):
            pass


async def test_unreachable_server_raises_connect_failed(cluster: ClusterProfile) -> None:
    """Nobody listening: ConnectFailed after the configured attempts, no asyncssh error leaks."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    settings = ssh_settings(cluster, port=free_port, reconnect_attempts=2, reconnect_backoff=0.01)
    with anyio.fail_after(30), pytest.raises(ConnectFailed):
        async with SshTransport(settings):
            pass


async def test_jump_host_tunnel(cluster: ClusterProfile) -> None:
    """With a jump host (here the same sshd), commands run through the tunnel."""
    jump = f"{cluster.user}@{cluster.host}:{cluster.port}"
    with anyio.fail_after(30):
        async with SshTransport(ssh_settings(cluster, jump_host=jump)) as transport:
            result = await transport.run(["echo", "through the tunnel"], check=True)
    assert result.stdout == "through the tunnel\n"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _session_sshd_pids(parent_pid: int, master_pid: int) -> list[int]:
    """The sshd processes serving our connection: our shell's ancestors below the master."""
    pids = []
    pid = parent_pid
    while pid > 1 and pid != master_pid:
        if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sshd"):
            pids.append(pid)
        status = Path(f"/proc/{pid}/status").read_text()
        pid = int(next(line for line in status.splitlines() if line.startswith("PPid:")).split()[1])
    return pids


async def _wait_dead(pid: int) -> None:
    with anyio.fail_after(20):
        while _alive(pid):  # noqa: ASYNC110 - another process, not a task: nothing to await
            await anyio.sleep(0.05)


async def _wait_for_new_pid_file(pid_file: Path, old: int) -> None:
    path = anyio.Path(pid_file)
    with anyio.fail_after(20):
        while True:  # another process writes it: there is no task to wait on
            if await path.exists() and (await path.read_text()).strip() not in ("", str(old)):
                return
            await anyio.sleep(0.05)


async def _start_sshd(cluster: ClusterProfile) -> None:
    config = cluster.cluster_dir / "etc" / "sshd_config"
    log = cluster.cluster_dir / "log" / "sshd.log"
    await anyio.run_process(["/usr/sbin/sshd", "-f", str(config), "-E", str(log)], check=True)


async def test_reconnects_after_sshd_restart(cluster: ClusterProfile) -> None:
    """sshd restarted and our connection cut mid-run: the next call reconnects and succeeds."""
    pid_file = cluster.cluster_dir / "run" / "sshd.pid"
    master = int(pid_file.read_text())
    async with SshTransport(ssh_settings(cluster)) as transport:
        with anyio.fail_after(60):
            shell = await transport.run(["sh", "-c", "echo $PPID"], check=True)
            ours = _session_sshd_pids(int(shell.stdout), master)
            assert ours, "no sshd process found between our shell and the master"
            try:
                os.kill(master, signal.SIGTERM)
                for pid in ours:
                    os.kill(pid, signal.SIGKILL)
                await _wait_dead(master)
                for pid in ours:
                    await _wait_dead(pid)
            finally:
                await _start_sshd(cluster)
            await _wait_for_new_pid_file(pid_file, master)
            result = await transport.run(["echo", "back"], check=True)
            listing = await transport.list_dir(cluster.work_root)
    assert result.stdout == "back\n"
    assert transport.reconnects == 1
    assert isinstance(listing, list)
