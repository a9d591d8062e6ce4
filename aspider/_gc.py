"""
A pause of Python's cyclic garbage collector around matching and planning.

Matching and planning a large project allocate hundreds of thousands of small objects while
the snapshot's own hundreds of thousands are alive; each generation-2 collection triggered by
those allocations walks them all, and on a 10,000-session project that was about a third of
the planner's CPU (see docs/benchmarks.md, Planner). The pause is the one the snapshot's fold
uses, so that overlapping pauses (a snapshot folding in a thread while a plan runs) share one
counter and the collector comes back on when the last of them ends.
"""

from __future__ import annotations

from xnat_client._gc import gc_paused

__all__ = ["gc_paused"]
