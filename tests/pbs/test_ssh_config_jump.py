"""
Reaching the cluster as people do: ssh config aliases, a login node behind a bastion (it accepts
no direct connection), jump hosts in the settings, every hop's host key checked, the agent never
forwarded, and the bastion's connection kept when the login node's drops.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from pbs import (
    ConnectFailed,
    EndCause,
    HostKeyRejected,
    JobSpec,
    SlurmClient,
    SshSettings,
    SshTransport,
    end_cause,
)
from tests.conftest import ClusterExtras, ClusterProfile

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


def via_config(cluster: ClusterProfile, extras: ClusterExtras, **fields: object) -> SshSettings:
    """Settings that name only what the ssh config does not say: the known_hosts file."""
    values: dict[str, object] = {
        "ssh_config": extras.ssh_config,
        "known_hosts": cluster.known_hosts,
        "connect_timeout": 10,
        "reconnect_attempts": 2,
        "reconnect_backoff": 0.1,
    }
    values.update(fields)
    return SshSettings.model_validate(values)


async def server_address(transport: SshTransport) -> str:
    """`address port` of the sshd the commands run under, as it sees itself."""
    result = await transport.run(["sh", "-c", 'set -- $SSH_CONNECTION; echo "$3 $4"'], check=True)
    return result.stdout.strip()


async def test_alias_from_the_ssh_config(cluster: ClusterProfile, extras: ClusterExtras) -> None:
    """An alias alone: HostName, Port, User and IdentityFile come from the config."""
    with anyio.fail_after(30):
        async with SshTransport(via_config(cluster, extras, host="aspider-direct")) as transport:
            address = await server_address(transport)
    assert address == f"127.0.0.1 {cluster.port}"


async def test_proxy_jump_alias_reaches_the_login_node(
    cluster: ClusterProfile, extras: ClusterExtras
) -> None:
    """An alias with ProxyJump: commands run on the login node behind the bastion."""
    behind = extras.behind_bastion
    with anyio.fail_after(30):
        async with SshTransport(via_config(cluster, extras, host=behind.alias)) as transport:
            address = await server_address(transport)
            listing = await transport.list_dir(cluster.work_root)
    assert address == f"{behind.host} {behind.port}"
    assert isinstance(listing, list)


async def test_login_node_refuses_direct_connections(
    cluster: ClusterProfile, extras: ClusterExtras
) -> None:
    """Without the bastion nothing reaches the login node: the test's premise really holds."""
    behind = extras.behind_bastion
    settings = via_config(
        cluster,
        extras,
        host=behind.host,
        port=behind.port,
        user=cluster.user,
        key_path=cluster.key_path,
        ssh_config=None,
        reconnect_attempts=1,
    )
    with anyio.fail_after(30), pytest.raises(ConnectFailed) as caught:
        async with SshTransport(settings):
            pass
    assert not isinstance(caught.value, HostKeyRejected)


async def test_two_jump_hosts_from_the_settings(
    cluster: ClusterProfile, extras: ClusterExtras
) -> None:
    """jump_host lists hops (aliases here): the direct sshd, then the bastion, then the node."""
    behind = extras.behind_bastion
    settings = via_config(
        cluster,
        extras,
        host=behind.host,
        port=behind.port,
        user=cluster.user,
        key_path=cluster.key_path,
        jump_host=f"aspider-direct,{extras.bastion.alias}",
    )
    with anyio.fail_after(30):
        async with SshTransport(settings) as transport:
            address = await server_address(transport)
    assert address == f"{behind.host} {behind.port}"


def known_hosts_without(cluster: ClusterProfile, tmp_path: Path, key: str) -> Path:
    kept = [line for line in cluster.known_hosts.read_text().splitlines() if key not in line]
    path = tmp_path / "known_hosts"
    path.write_text("\n".join(kept) + "\n")
    return path


@pytest.mark.parametrize("hop", ["bastion", "behind_bastion"])
async def test_every_hop_has_its_host_key_checked(
    cluster: ClusterProfile, extras: ClusterExtras, tmp_path: Path, hop: str
) -> None:
    """The bastion's key or the login node's missing from known_hosts: that hop is refused."""
    unknown = getattr(extras, hop)
    known_hosts = known_hosts_without(cluster, tmp_path, unknown.host_key.split()[1])
    settings = via_config(
        cluster, extras, host=extras.behind_bastion.alias, known_hosts=known_hosts
    )
    with anyio.fail_after(30), pytest.raises(HostKeyRejected) as caught:
        async with SshTransport(settings):
            pass
    assert f"{unknown.host}:{unknown.port}" in str(caught.value)
    assert "ssh-keyscan" in str(caught.value)


@pytest.fixture
def agent(cluster: ClusterProfile, tmp_path: Path) -> Iterator[str]:
    """A real ssh-agent holding the cluster's key; stopped afterwards (by its own pid)."""
    socket_path = str(tmp_path / "agent.sock")
    started = subprocess.run(
        ["ssh-agent", "-a", socket_path, "-s"], capture_output=True, text=True, check=True
    )
    pid = int(started.stdout.split("SSH_AGENT_PID=")[1].split(";")[0])
    try:
        env = {**os.environ, "SSH_AUTH_SOCK": socket_path}
        subprocess.run(["ssh-add", "-q", str(cluster.key_path)], env=env, check=True)
        yield socket_path
    finally:
        os.kill(pid, signal.SIGTERM)


async def test_the_agent_is_never_forwarded(
    cluster: ClusterProfile, extras: ClusterExtras, agent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ForwardAgent yes in the config, an agent running: OpenSSH forwards it, we do not."""
    alias = extras.behind_bastion.alias
    probe = 'printf "%s" "${SSH_AUTH_SOCK:-none}"'
    with anyio.fail_after(30):
        openssh = await anyio.run_process(
            ["ssh", "-F", str(extras.ssh_config), "-o", "BatchMode=yes", alias, probe],
            env={**os.environ, "SSH_AUTH_SOCK": agent},
        )
    assert openssh.stdout.startswith(b"/tmp/ssh-")  # the server would take a forwarded agent
    monkeypatch.setenv("SSH_AUTH_SOCK", agent)
    with anyio.fail_after(30):
        async with SshTransport(via_config(cluster, extras, host=alias)) as transport:
            ours = await transport.run(["sh", "-c", probe], check=True)
    assert ours.stdout == "none"


def _accepted(log: Path) -> int:
    return log.read_text().count("Accepted publickey") if log.exists() else 0


def _sshd_ancestors(pid: int) -> list[int]:
    """The sshd processes above a session's shell, up to the socat that started them."""
    found = []
    while pid > 1:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
        if command.startswith(b"socat"):
            break
        if command.startswith(b"sshd"):
            found.append(pid)
        status = Path(f"/proc/{pid}/status").read_text()
        pid = int(next(line for line in status.splitlines() if line.startswith("PPid:")).split()[1])
    return found


async def test_reconnect_goes_through_the_kept_bastion_connection(
    cluster: ClusterProfile, extras: ClusterExtras
) -> None:
    """The login node's sshd killed: one reconnect, through the same bastion connection."""
    logs = cluster.cluster_dir / "log"
    settings = via_config(cluster, extras, host=extras.behind_bastion.alias)
    with anyio.fail_after(60):
        async with SshTransport(settings) as transport:
            shell = await transport.run(["sh", "-c", "echo $PPID"], check=True)
            bastion_logins = _accepted(logs / "bastion-sshd.log")
            node_logins = _accepted(logs / "behind-sshd.log")
            serving = _sshd_ancestors(int(shell.stdout))
            assert serving, "no sshd found above the session's shell"
            for pid in serving:
                os.kill(pid, signal.SIGKILL)
            result = await transport.run(["echo", "back"], check=True)
    assert result.stdout == "back\n"
    assert transport.reconnects == 1
    assert _accepted(logs / "bastion-sshd.log") == bastion_logins
    assert _accepted(logs / "behind-sshd.log") == node_logins + 1


async def test_slurm_through_the_bastion(
    cluster: ClusterProfile, extras: ClusterExtras, job_root: Path
) -> None:
    """sbatch, squeue, sacct and scancel on the login node behind the bastion."""
    settings = via_config(cluster, extras, host=extras.behind_bastion.alias)
    done = JobSpec(name="behind", job_dir=str(job_root / "behind"), command="exit 0")
    waiting = JobSpec(name="held", job_dir=str(job_root / "held"), command="sleep 300")
    with anyio.fail_after(90):
        async with SshTransport(settings) as transport:
            slurm = SlurmClient(transport)
            first, second = await slurm.submit(done), await slurm.submit(waiting)
            try:
                while True:
                    found = await slurm.poll([first], ["held"])
                    info = found.by_id[first]
                    state = (await slurm.read_states(job_root, ["behind"]))["behind"]
                    if end_cause(info, state) is not None:
                        break
                    await anyio.sleep(0.5)
                assert found.by_name["held"].job_id == second
            finally:
                await slurm.delete([first, second])
    assert end_cause(info, state) is EndCause.SUCCESS
