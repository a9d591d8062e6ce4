"""
A pause of Python's cyclic garbage collector around CPU-bound matching and planning.

Matching and planning a large project allocate hundreds of thousands of small objects while
the snapshot's own hundreds of thousands are alive; each generation-2 collection triggered by
those allocations walks them all, and on a 10,000-session project that was about a third of
the planner's CPU (see docs/benchmarks.md, Planner). The policy is the engine's: a pause never
spans an `await` (other tasks would run, and allocate, with the collector off), and the
libraries (`xnat_client`, `pbs`) never pause it themselves.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_pause_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """
    No cyclic collection inside the block; pauses nest and overlap (a plan while a thread
    builds), the first one in turns collection off and the last one out restores what it found.
    """
    global _pauses, _was_enabled
    with _pause_lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()


@contextmanager
def snapshot_step() -> Iterator[None]:
    """
    One CPU-bound step of reading a snapshot (a block of a listing folded, the models built):
    paused, and what it built then frozen (`gc.freeze`), so the collections that run between
    steps, while the next block is on its way, no longer walk the hundreds of thousands of
    objects the snapshot already holds. On a 40,000-session project that was about a third
    of the client's CPU. `thawed_after` gives them back to the collector.
    """
    with gc_paused():
        yield
    gc.freeze()


@contextmanager
def thawed_after() -> Iterator[None]:
    """What `snapshot_step` froze goes back to the collector when the block ends (a sweep)."""
    try:
        yield
    finally:
        gc.unfreeze()
