"""
Batches of ids or names: one command per batch, each batch under argument-length limits, so a
poll of ten thousand jobs is still a handful of commands.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

#: Bytes of ids or names per command: far below ARG_MAX and sshd's limits.
MAX_ARGUMENT_BYTES = 64 * 1024


def chunked(items: Sequence[str], limit: int = MAX_ARGUMENT_BYTES) -> Iterator[list[str]]:
    """Split items into runs whose total length stays under limit."""
    chunk: list[str] = []
    size = 0
    for item in items:
        if chunk and size + len(item) + 1 > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += len(item) + 1
    if chunk:
        yield chunk


def unique(items: Iterable[str]) -> list[str]:
    """items without repeats, in their first order."""
    return list(dict.fromkeys(items))
