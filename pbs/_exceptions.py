"""
The one exception tree of the PBS driver.

asyncssh's and the operating system's exceptions never leave the package: each transport
translates them once, at its boundary, with `raise ... from exc`.

    PbsError                       anything that went wrong driving the cluster
    ├── InvalidValue (ValueError)  a job name, job id, path or option that could break a #PBS
    │                              line, a shell or a path; raised before anything is sent
    ├── TransportClosed (RuntimeError)
    │                              a transport used before `async with` or after `aclose()`
    ├── ConnectFailed              cannot reach or log in to the SSH server (after the retries)
    │   ├── HostKeyRejected        the server's host key is unknown or changed; the message
    │   │                          says how to trust it
    │   └── SshFileUnreadable      the key or known_hosts file named cannot be read, or the
    │                              key is not one (`.path`); never retried: no attempt could
    │                              succeed
    ├── ConnectionLost             the connection dropped while a command that must not be
    │                              repeated (qsub) was in flight, or the scheduler did not
    │                              answer a submission: its outcome is unknown (find the job
    │                              by name before submitting again)
    ├── FileOperationFailed        a file operation failed (`.path`)
    │   └── FileMissing            ... because the path does not exist
    ├── CommandFailed              a command exited non-zero where success was required
    │   │                          (`.command`, `.exit_status`, `.stdout`, `.stderr`)
    │   └── SubmitFailed           `qsub` / `sbatch` refused the job; never retried blindly
    │       └── SchedulerUnavailable
    │                              ... because the server could not be reached: nothing was
    │                              submitted, and a later attempt may succeed
    └── BadSchedulerOutput         scheduler output that cannot be parsed (`.excerpt`)
"""

from __future__ import annotations

from collections.abc import Sequence

_EXCERPT = 2000


def _excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."


class PbsError(Exception):
    """Base of every error raised by the driver."""


class InvalidValue(PbsError, ValueError):
    """A value that cannot be passed to the scheduler or used as a path safely."""

    def __init__(self, what: str, value: object, reason: str) -> None:
        self.what = what
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {what} {value!r}: {reason}")


class TransportClosed(PbsError, RuntimeError):
    """The transport is not open: use it inside `async with`, and not after `aclose()`."""


class ConnectFailed(PbsError):
    """The SSH server could not be reached or refused the login."""


class HostKeyRejected(ConnectFailed):
    """The server's host key is not in the known_hosts file (unknown, or changed)."""


class SshFileUnreadable(ConnectFailed):
    """The private key or known_hosts file the settings name is missing or unreadable."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class ConnectionLost(PbsError):
    """A command that is not safe to repeat may or may not have run (the answer was lost)."""


class FileOperationFailed(PbsError):
    """A file operation on the cluster (or the local disk) failed."""

    def __init__(self, message: str, *, path: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class FileMissing(FileOperationFailed):
    """The path does not exist."""


class CommandFailed(PbsError):
    """A command exited non-zero where success was required."""

    def __init__(self, command: Sequence[str], exit_status: int, stdout: str, stderr: str) -> None:
        self.command = tuple(command)
        self.exit_status = exit_status
        self.stdout = stdout
        self.stderr = stderr
        output = _excerpt(stderr) or _excerpt(stdout) or "(no output)"
        super().__init__(f"{' '.join(self.command)!r} exited with status {exit_status}: {output}")


class SubmitFailed(CommandFailed):
    """
    The submit command refused the job (its message may be on stdout: the Slurm wrappers
    print it there).
    """


class SchedulerUnavailable(SubmitFailed):
    """The submit command could not reach the scheduler's server: nothing was submitted."""


class BadSchedulerOutput(PbsError):
    """The scheduler printed something the parser does not understand."""

    def __init__(self, message: str, *, output: str) -> None:
        self.excerpt = _excerpt(output)
        super().__init__(f"{message}: {self.excerpt!r}")
