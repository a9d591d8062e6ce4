"""
Knobs that make the server misbehave on purpose, and the log of what it was asked.

Faults are drawn from a seeded random generator (rates), or queued explicitly with `inject`
for deterministic tests. A `drop` sends the response head and then fails: over TCP the
connection closes mid-response; through httpx.ASGITransport the client sees the same
`httpx.RemoteProtocolError` it would see on the wire.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Literal

import httpx

FaultKind = Literal["error", "timeout", "drop"]


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised inside the app to cut the connection after the response head."""


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    method: str
    path: str
    query: str
    status: int  # 0 when the connection was dropped or the request hung
    fault: str = ""
    client: str = ""  # the peer's host:port, which tells the connections apart


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    status: int = 503


@dataclass
class Faults:
    """Random fault rates (0..1) and an explicit queue; `path_pattern` limits where they hit."""

    error_rate: float = 0.0
    timeout_rate: float = 0.0
    drop_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503)
    hang_seconds: float = 3600.0
    path_pattern: str = ""
    seed: int | None = None
    _queue: list[Fault] = field(default_factory=list)
    _rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.reseed(self.seed)

    def reseed(self, seed: int | None) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def inject(self, kind: FaultKind, count: int = 1, status: int = 503) -> None:
        """Make the next `count` matching requests fail this way, before any random fault."""
        self._queue.extend(Fault(kind, status) for _ in range(count))

    def clear(self) -> None:
        self._queue.clear()
        self.error_rate = self.timeout_rate = self.drop_rate = 0.0

    def draw(self, path: str) -> Fault | None:
        """The fault this request suffers, if any."""
        if self.path_pattern and not re.search(self.path_pattern, path):
            return None
        if self._queue:
            return self._queue.pop(0)
        roll = self._rng.random()
        if roll < self.error_rate:
            return Fault("error", self._rng.choice(self.error_statuses))
        roll -= self.error_rate
        if roll < self.timeout_rate:
            return Fault("timeout")
        roll -= self.timeout_rate
        if roll < self.drop_rate:
            return Fault("drop")
        return None
