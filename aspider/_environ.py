"""
Secrets given in the environment leave it the moment `aspider` starts.

Every process aspider starts inherits its environment, and some start before any of our code
runs: importing asyncssh looks up an optional crypto library with `ctypes.util.find_library`,
which runs `gcc` and `ld` with the whole environment. So the command line calls
`take_secrets()` first, before importing anything that may start a process: every `ASPIDER_*`
variable that holds a secret (`ASPIDER_XNAT__PASSWORD`, a key passphrase, a token) is moved
out of `os.environ` into this module, and `aspider.settings` reads it from here with the same
precedence as the environment. No child of aspider (a compiler probe, a local job, `qsub`, an
SSH client) can then receive it.

This module imports nothing but the standard library, so importing it starts no process.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

PREFIX = "ASPIDER_"
NESTED_DELIMITER = "__"
# The last part of a variable's name (after the last `__`) ends with one of these: a secret.
# `..._FILE` (the path of a mounted secret) does not, and stays.
SECRET_ENDINGS = ("PASSWORD", "SECRET", "PASSPHRASE", "TOKEN")


def is_secret(name: str) -> bool:
    """Whether an environment variable's name says it holds one of aspider's secrets."""
    upper = name.upper()
    return upper.startswith(PREFIX) and upper.rsplit(NESTED_DELIMITER, 1)[-1].endswith(
        SECRET_ENDINGS
    )


class SecretStore:
    """The secrets taken out of an environment, kept for the settings."""

    def __init__(self) -> None:
        self._taken: dict[str, str] = {}

    def take(self, environ: MutableMapping[str, str]) -> list[str]:
        """
        Move the secret `ASPIDER_*` variables out of `environ`; returns their names.

        Idempotent: a second call finds nothing left to take (and keeps what the first took).
        """
        names = [name for name in environ if is_secret(name)]
        for name in names:
            self._taken[name] = environ.pop(name)
        return names

    def as_settings(self) -> dict[str, Any]:
        """
        The secrets shaped as settings data: `ASPIDER_XNAT__PASSWORD` -> {"xnat": {"password":
        ...}}, for a settings source of the environment's precedence.
        """
        data: dict[str, Any] = {}
        for name, value in self._taken.items():
            *sections, key = name[len(PREFIX) :].lower().split(NESTED_DELIMITER)
            node = data
            for section in sections:
                node = node.setdefault(section, {})
            node[key] = value
        return data


_PROCESS = SecretStore()  # the process's own environment: there is one


def take_secrets() -> list[str]:
    """Take the secrets out of this process's environment (`os.environ`)."""
    return _PROCESS.take(os.environ)


def taken_secrets() -> dict[str, Any]:
    """The secrets taken from this process's environment, as settings data."""
    return _PROCESS.as_settings()
