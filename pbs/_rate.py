"""
CommandRate: at most so many scheduler commands a second, evenly spaced.

Sites that ask for a submission rate limit want the controller spared bursts, so each command
takes the next free slot (`1 / per_second` after the one before) rather than a bucket's worth
at once. It is a few lines on anyio's clock rather than a dependency: the rate limiters on
PyPI (aiolimiter) are asyncio's, and `pbs` runs on any anyio backend.
"""

from __future__ import annotations

import anyio


class CommandRate:
    """
    Space commands `1 / per_second` apart; None: no limit (no wait, no clock read).

    Slots are taken in call order with no await between reading and reserving one, so
    concurrent callers each get their own.
    """

    def __init__(self, per_second: float | None = None) -> None:
        if per_second is not None and per_second <= 0:
            raise ValueError("a command rate must be positive (None: unlimited)")
        self.per_second = per_second
        self._next = 0.0

    async def wait(self) -> None:
        """Return when the caller's slot has come."""
        if self.per_second is not None:
            delay = self.reserve(anyio.current_time())
            if delay > 0:
                await anyio.sleep(delay)

    def reserve(self, now: float) -> float:
        """Take the next free slot at clock time `now`; how long until it comes."""
        if self.per_second is None:
            return 0.0
        start = max(now, self._next)
        self._next = start + 1 / self.per_second
        return start - now
