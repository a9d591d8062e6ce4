"""
The transport seam: run a command, work with files. One interface, two implementations.

`PbsClient` only ever talks to a `Transport`, so the same client drives a cluster from its login
node (`LocalTransport`) or from anywhere over SSH (`SshTransport`), and tests can swap either in.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol, runtime_checkable

from ._exceptions import TransportClosed as TransportClosed_

#: Variables that make Torque's qstat hide jobs; every command runs with them unset.
HIDING_VARIABLES = ("PBS_QSTAT_NO_COMPLETE", "PBS_QSTAT_EXECONLY")

#: Size of the chunks `download` yields.
CHUNK_SIZE = 256 * 1024

PathLike = str | PurePosixPath


@dataclass(frozen=True)
class CommandResult:
    """What a command left behind: its exit status and its decoded output."""

    argv: tuple[str, ...]
    exit_status: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class FileStat:
    """The little a caller needs to know about a path."""

    size: int
    mtime: float
    is_dir: bool


def scrubbed_argv(argv: Sequence[str]) -> list[str]:
    """
    Prefix argv with `env -u` for the variables that hide jobs from qstat.

    Doing it in argv (not in the caller's environment) works the same locally and over SSH,
    where the remote login environment is out of our hands.
    """
    if not argv:
        raise ValueError("empty argv")
    prefix = ["env"]
    for name in HIDING_VARIABLES:
        prefix += ["-u", name]
    return [*prefix, *argv]


@runtime_checkable
class Transport(Protocol):
    """
    Run commands and move files on the machine where the scheduler's commands live.

    Commands are argv lists, never shell strings built from data. `round_trips` counts commands
    run plus file operations (one per method call), so tests and benchmarks can hold the
    driver to its budget.
    """

    round_trips: int

    async def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        check: bool = False,
        idempotent: bool = True,
    ) -> CommandResult:
        """
        Run argv and return its result.

        Args:
            stdin: bytes fed to the command's standard input.
            check: raise `CommandFailed` when the exit status is not 0.
            idempotent: the command may be repeated if the connection drops before it
                completes; pass False for commands such as `qsub` (then `ConnectionLost`).
        """
        ...

    async def read_bytes(self, path: PathLike) -> bytes:
        """The whole file (`FileMissing` when absent)."""
        ...

    async def write_bytes(self, path: PathLike, data: bytes) -> None:
        """Create or replace the file."""
        ...

    async def upload(self, path: PathLike, chunks: AsyncIterable[bytes]) -> None:
        """Stream chunks into the file, creating or replacing it."""
        ...

    def download(self, path: PathLike) -> AsyncIterator[bytes]:
        """Stream the file's content in chunks."""
        ...

    async def list_dir(self, path: PathLike) -> list[str]:
        """Names in the directory, sorted, without `.` and `..`."""
        ...

    async def stat(self, path: PathLike) -> FileStat | None:
        """Size, mtime and kind of the path; None when it does not exist."""
        ...

    async def make_dirs(self, path: PathLike) -> None:
        """Create the directory and its parents; no error if it exists."""
        ...

    async def remove(self, path: PathLike) -> None:
        """Remove a file or a whole tree; no error if it does not exist."""
        ...

    async def rename(self, source: PathLike, target: PathLike) -> None:
        """Atomically move source to target, replacing target."""
        ...

    async def aclose(self) -> None:
        """Release connections; the transport cannot be used afterwards."""
        ...


class Lifecycle:
    """Open/closed bookkeeping shared by the transports: a precise error on misuse."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._state = "new"

    def opened(self) -> None:
        if self._state == "closed":
            raise TransportClosed_(f"{self._name} was closed; create a new one")
        self._state = "open"

    def closed(self) -> None:
        self._state = "closed"

    def check(self) -> None:
        if self._state == "new":
            raise TransportClosed_(f"{self._name} is not open: use `async with {self._name}(...)`")
        if self._state == "closed":
            raise TransportClosed_(f"{self._name} was used after aclose()")
