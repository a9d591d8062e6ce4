"""The server's own pause of the cyclic garbage collector while it renders a large listing."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """
    No cyclic collection while one batch of a listing is rendered.

    A bulk listing allocates ~10^5 short strings per batch and keeps none of them in cycles, so
    the collector would only rescan the archive's long-lived objects. The server renders on one
    thread, so a pause only has to restore what it found; an outer pause by someone else (the
    client folding a snapshot in the same process) stays in force.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
