"""
A pause of Python's cyclic garbage collector around allocation-heavy synchronous work.

The client no longer pauses the collector itself: the application chooses, through
`XnatClient(around_cpu_work=...)`, which is entered only around synchronous steps. This
module stays while `aspider._gc` still imports it; it belongs with the engine's policy.
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
    No cyclic garbage collection while a snapshot is folded and built (about 2 s at 10,000
    sessions; garbage is collected right after).

    A snapshot allocates hundreds of thousands of models and containers that all stay alive;
    the collector would rescan that growing heap again and again for nothing, which costs as
    much as the fold itself. Pauses nest and overlap (concurrent snapshots, the build thread):
    the first one in turns collection off, the last one out restores what it found.
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
