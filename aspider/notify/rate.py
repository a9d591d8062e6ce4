"""
At most N alerts per destination per hour; past that, one note of how many were held back.

Counted by the process that sends (a run over the run, the service over its life): a flood is
one run failing a hundred tasks, or the service sweeping through an outage, and both are one
process. An alert held back is recorded as told where it was held (`reconcile.record`), so it
is never sent later; the digest and the status page still list its problem. The note itself
is not counted, and goes at most once an hour per destination: holds after it are counted on,
and told by the first note of a later hour.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

HOUR = 3600.0


@dataclass
class _Window:
    sent: deque[float] = field(default_factory=deque)
    held: int = 0
    last_note: float | None = None


class RateLimit:
    """The alerts each destination (by id) took in the last hour; times in seconds."""

    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self._windows: dict[str, _Window] = {}

    def _window(self, destination: str, now: float) -> _Window:
        window = self._windows.setdefault(destination, _Window())
        while window.sent and window.sent[0] <= now - HOUR:
            window.sent.popleft()
        return window

    def admit(self, destination: str, now: float) -> bool:
        """Whether an alert may go now; if so it is counted, if not it is held back."""
        window = self._window(destination, now)
        if len(window.sent) < self.per_hour:
            window.sent.append(now)
            return True
        window.held += 1
        return False

    def undo(self, destination: str) -> None:
        """An admitted alert did not go out after all (the channel failed): uncount it."""
        window = self._windows.get(destination)
        if window is not None and window.sent:
            window.sent.pop()

    def note_due(self, destination: str, now: float) -> int:
        """
        How many alerts to report as held back now (0: no note due). Once reported, the count
        starts again; call `noted` when the note went out, or it is reported again later.
        """
        window = self._window(destination, now)
        if not window.held:
            return 0
        if window.last_note is not None and now - window.last_note < HOUR:
            return 0
        return window.held

    def noted(self, destination: str, count: int, now: float) -> None:
        window = self._window(destination, now)
        window.held -= count
        window.last_note = now

    def destinations_holding(self) -> list[str]:
        return [d for d, w in self._windows.items() if w.held]
