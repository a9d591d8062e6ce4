"""A pause of Python's cyclic garbage collector around allocation-heavy pure work."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """
    No cyclic collection inside the block; the previous setting is restored after it.

    Why: matching and planning a large project allocate hundreds of thousands of small objects
    while the snapshot's own hundreds of thousands are alive; each generation-2 collection
    triggered by those allocations walks them all, and measured on a 10,000-session project
    that was about a third of the planner's CPU (see docs/benchmarks.md, Planner). The objects
    made here hold no reference cycles that need collecting before the block ends, and
    reference counting still frees everything else at once.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
