"""
Command runners: long-lived POSIX `sh` loops on exec channels, so that the user's login shell
starts once per runner instead of once per command.

Why: sshd hands every exec channel to the user's login shell, which reads its rc files; on
clusters these load pyenv, conda or module systems and can cost tens of milliseconds of CPU
per command, more than qsub itself. A runner is started exactly like any other command (so
its environment, PATH included, is the one the rc files give every command), then it reads
command lines and runs each with `eval`: the same shell-quoted line that sshd would have
handed to the login shell, parsed by POSIX sh. Nothing is interpolated into the runner's own
script.

Protocol, one request at a time per runner (both directions on the channel's stdin/stdout):

    request:  <command line, newlines written as "$nl">\\n<stdin as printf %b escapes>\\n
    answer:   <exit status>\\n<stdout size>\\n<stderr size>\\n<stdout bytes><stderr bytes>

The command's stdin, stdout and stderr are files in a private `mktemp -d` directory that the
runner removes when it ends.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Sequence

import anyio
import asyncssh

from .._transport import scrubbed_argv
from ._connect import Connection

log = logging.getLogger("pbs.ssh")

#: The line a runner prints once it is ready; anything the login rc files print comes before.
READY = b"aspider-pbs-runner ready v1"

_RUNNER_SCRIPT = f"""\
t=$(mktemp -d "${{TMPDIR:-/tmp}}/pbs-runner.XXXXXX") || exit 1
trap 'rm -rf "$t"' EXIT
trap 'exit 129' HUP
trap 'exit 141' PIPE
trap 'exit 143' TERM
nl='
'
exec 2>/dev/null
echo '{READY.decode()}'
while IFS= read -r c && IFS= read -r i; do
    printf '%b' "$i" > "$t/in" || exit 1
    eval "$c" < "$t/in" > "$t/out" 2> "$t/err"
    printf '%s\\n' "$?"
    wc -c < "$t/out"
    wc -c < "$t/err"
    cat "$t/out" "$t/err"
done
"""

# printf %b escapes: printable ASCII stays itself, everything else (and the backslash) \0ooo.
_ESCAPES = [
    chr(byte) if 0x20 <= byte < 0x7F and byte != 0x5C else f"\\0{byte:03o}" for byte in range(256)
]


class ChannelGone(ConnectionError):
    """A runner's channel ended in the middle of a request: the command's outcome is unknown."""


def remote_command(argv: Sequence[str]) -> str:
    """The command line sshd hands to the login shell: every word quoted, hiding vars unset."""
    return shlex.join(scrubbed_argv(argv))


def request_bytes(argv: Sequence[str], stdin: bytes | None) -> bytes:
    """
    One request: the quoted command line on one line, then stdin escaped on one line.

    shlex puts every newline of an argument inside single quotes, so closing the quote, adding
    the runner's "$nl" and reopening it yields the same word on a single line.
    """
    line = remote_command(argv).replace("\n", "'\"$nl\"'")
    escaped = "".join(_ESCAPES[byte] for byte in stdin or b"")
    return f"{line}\n{escaped}\n".encode()


class Runner:
    """One runner process on one connection; used by one request at a time."""

    def __init__(self, connection: Connection, process: asyncssh.SSHClientProcess[bytes]) -> None:
        self.connection = connection
        self.process = process

    def usable(self, connection: Connection) -> bool:
        """Still on the live connection and not ended while idle."""
        return (
            self.connection is connection
            and not connection.is_closed()
            and self.process.exit_status is None
            and not self.process.stdout.at_eof()
        )

    def close(self) -> None:
        self.process.close()

    async def run(self, argv: Sequence[str], stdin: bytes | None) -> tuple[int, bytes, bytes]:
        """Send one request and read its answer; ChannelGone if the runner ends meanwhile."""
        reader = self.process.stdout
        try:
            self.process.stdin.write(request_bytes(argv, stdin))
            status = int(await _line(reader))
            out_size = int(await _line(reader))
            err_size = int(await _line(reader))
            out = await reader.readexactly(out_size)
            err = await reader.readexactly(err_size)
        except (asyncio.IncompleteReadError, BrokenPipeError) as exc:
            raise ChannelGone("the command runner ended before answering") from exc
        except ValueError as exc:
            raise ChannelGone(f"the command runner answered garbage: {exc}") from exc
        return status, out, err


async def _line(reader: asyncssh.SSHReader[bytes]) -> bytes:
    line = await reader.readline()
    if not line.endswith(b"\n"):
        raise asyncio.IncompleteReadError(line, None)
    return line.strip()


async def start_runner(connection: Connection) -> Runner | None:
    """A ready runner, or None when the login node cannot run one (then use exec channels)."""
    command = remote_command(["sh", "-c", _RUNNER_SCRIPT, "sh"])
    process = await connection.conn.create_process(command, encoding=None)
    try:
        while True:
            line = bytes(await process.stdout.readline())
            if not line:
                log.warning("cannot start a command runner; one channel per command instead")
                process.close()
                return None
            if line.rstrip().endswith(READY):
                return Runner(connection, process)
    except BaseException:
        process.close()
        raise


class RunnerPool:
    """
    Up to `size` runners; a command takes an idle one, starts one, or waits for one.

    Runners hold channels while idle, so `size` stays below the channel limit (the SFTP
    session needs one). A runner of an older connection is dropped when met.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots = anyio.CapacityLimiter(max(size, 1))
        self._idle: list[Runner] = []
        self._unavailable: Connection | None = None

    async def run(
        self, connection: Connection, argv: Sequence[str], stdin: bytes | None
    ) -> tuple[int, bytes, bytes] | None:
        """The command's result through a runner, or None when runners cannot be used."""
        if self.size == 0 or self._unavailable is connection:
            return None
        async with self._slots:
            runner = self._take_idle(connection)
            if runner is None:
                runner = await start_runner(connection)
                if runner is None:
                    self._unavailable = connection
                    return None
            try:
                result = await runner.run(argv, stdin)
            except BaseException:
                runner.close()
                raise
            self._idle.append(runner)
            return result

    def _take_idle(self, connection: Connection) -> Runner | None:
        while self._idle:
            runner = self._idle.pop()
            if runner.usable(connection):
                return runner
            runner.close()
        return None

    def clear(self) -> None:
        """Close every idle runner (the connection is going away)."""
        for runner in self._idle:
            runner.close()
        self._idle.clear()
