"""Command runners over the real OpenSSH server: same environment, fewer login shells, failures."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from pbs import ConnectionLost, SshTransport
from pbs.ssh._runner import READY
from tests.conftest import ClusterProfile
from tests.pbs.conftest import ssh_settings
from tests.pbs.test_pbs_ssh import _session_sshd_pids

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

PARENT = ["sh", "-c", "echo $PPID"]


@pytest.fixture
async def ssh(cluster: ClusterProfile) -> AsyncIterator[SshTransport]:
    """An SSH transport with command runners (the default)."""
    async with SshTransport(ssh_settings(cluster)) as transport:
        yield transport


async def _parents(transport: SshTransport, count: int) -> set[int]:
    return {int((await transport.run(PARENT, check=True)).stdout) for _ in range(count)}


def _is_runner(pid: int) -> bool:
    """Whether the process is a command runner (its script carries the ready line)."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    return cmdline.exists() and READY in cmdline.read_bytes()


async def _wait_for_file(path: Path) -> None:
    with anyio.fail_after(20):
        while not await anyio.Path(path).exists():  # noqa: ASYNC110 - another process writes it
            await anyio.sleep(0.05)


async def test_runner_sees_the_environment_of_an_exec_channel(
    cluster: ClusterProfile, ssh: SshTransport
) -> None:
    """PATH, HOME and the sshd-set variables are those a command gets on its own exec channel."""
    probe = ["sh", "-c", 'printf "%s|%s|%s" "$PATH" "$HOME" "$SLURM_CONF"']
    async with SshTransport(ssh_settings(cluster, command_runners=False)) as plain:
        with anyio.fail_after(30):
            expected = (await plain.run(probe, check=True)).stdout
            seen = (await ssh.run(probe, check=True)).stdout
    assert seen == expected
    assert str(cluster.slurm_conf) in seen


async def test_sequential_commands_share_one_login_shell(
    cluster: ClusterProfile, ssh: SshTransport
) -> None:
    """Ten commands in a row run under one runner; without runners none runs under a runner."""
    async with SshTransport(ssh_settings(cluster, command_runners=False)) as plain:
        with anyio.fail_after(60):
            with_runners = await _parents(ssh, 10)
            without = await _parents(plain, 10)
            runner_parents = [_is_runner(pid) for pid in with_runners]
            plain_parents = [_is_runner(pid) for pid in without]
    assert len(with_runners) == 1
    assert runner_parents == [True]
    assert not any(plain_parents)


async def test_runners_stay_below_the_channel_limit(cluster: ClusterProfile) -> None:
    """With max_channels=3, thirty concurrent commands use at most two runners, all answered."""
    parents: list[int] = []

    async def one(transport: SshTransport) -> None:
        result = await transport.run(["sh", "-c", "sleep 0.1; echo $PPID"], check=True)
        parents.append(int(result.stdout))

    async with SshTransport(ssh_settings(cluster, max_channels=3)) as transport:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for _ in range(30):
                    group.start_soon(one, transport)
    assert len(parents) == 30
    assert 1 <= len(set(parents)) <= 2


async def test_newlines_and_binary_stdin_pass_through_the_runner(ssh: SshTransport) -> None:
    """Arguments with newlines, empty arguments and every byte value of stdin arrive verbatim."""
    args = ["a\nb", "\n", "", "trailing\n\n", "x'\n'y"]
    data = bytes(range(256)) * 3 + b"\\c\\0101%s"
    with anyio.fail_after(30):
        printed = await ssh.run(["printf", "%s|", *args], check=True)
        echoed = await ssh.run(["sh", "-c", 'cat; printf "%s" "$1" >&2', "sh", "é\n"], stdin=data)
        counted = await ssh.run(["wc", "-c"], stdin=data)
    assert printed.stdout == "".join(f"{arg}|" for arg in args)
    assert echoed.stdout == data.decode(errors="replace")
    assert echoed.stderr == "é\n"
    assert int(counted.stdout) == len(data)


async def test_a_cancelled_command_does_not_leave_its_answer_behind(ssh: SshTransport) -> None:
    """A command cancelled while it runs: the next command gets its own answer, not the late one."""
    with anyio.fail_after(30):
        with anyio.move_on_after(0.5):
            await ssh.run(["sh", "-c", "sleep 2; echo late"])
        result = await ssh.run(["echo", "next"], check=True)
    assert result.stdout == "next\n"


async def test_a_runner_killed_while_idle_is_replaced(ssh: SshTransport) -> None:
    """A runner that died between commands is noticed: the next command runs on a new one."""
    with anyio.fail_after(30):
        (first,) = await _parents(ssh, 1)
        os.kill(first, signal.SIGKILL)
        result = await ssh.run(PARENT, check=True)
    assert int(result.stdout) != first
    assert ssh.reconnects == 0


async def test_runner_death_repeats_idempotent_commands_only(
    ssh: SshTransport, tmp_path: Path
) -> None:
    """The runner dies mid-command: an idempotent command is repeated, another is ConnectionLost."""
    marker = tmp_path / "killed-once"
    kill_once = 'if [ ! -e "$1" ]; then echo x >> "$1"; kill -9 $PPID; sleep 5; fi; echo done'
    argv = ["sh", "-c", kill_once, "sh", str(marker)]
    with anyio.fail_after(60):
        repeated = await ssh.run(argv, check=True)
        marker.unlink()
        with pytest.raises(ConnectionLost, match="outcome unknown"):
            await ssh.run(argv, idempotent=False)
        after = await ssh.run(["echo", "still connected"], check=True)
    assert repeated.stdout == "done\n"
    assert marker.read_text() == "x\n"  # the non-idempotent command ran once, not again
    assert after.stdout == "still connected\n"
    assert ssh.reconnects == 0


async def test_connection_drop_during_non_idempotent_command(
    cluster: ClusterProfile, ssh: SshTransport, tmp_path: Path
) -> None:
    """The connection drops while a non-idempotent command runs: ConnectionLost, not repeated."""
    master = int((cluster.cluster_dir / "run" / "sshd.pid").read_text())
    started = tmp_path / "started"
    argv = ["sh", "-c", 'echo x >> "$1"; sleep 30', "sh", str(started)]
    caught: list[BaseException] = []

    async def victim() -> None:
        try:
            await ssh.run(argv, idempotent=False)
        except ConnectionLost as exc:
            caught.append(exc)

    with anyio.fail_after(60):
        (runner,) = await _parents(ssh, 1)
        session = _session_sshd_pids(runner, master)
        assert session, "no sshd process found between the runner and the master"
        async with anyio.create_task_group() as group:
            group.start_soon(victim)
            await _wait_for_file(started)
            for pid in session:
                os.kill(pid, signal.SIGKILL)
        result = await ssh.run(["echo", "back"], check=True)
    assert len(caught) == 1
    assert started.read_text() == "x\n"
    assert result.stdout == "back\n"
    assert ssh.reconnects == 1
