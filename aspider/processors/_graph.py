"""
The processor dependency graph: an edge from a processor to each proctype it takes as input.

Checked at load time: a cycle means none of the processors in it could ever run, which would
otherwise show only as tasks waiting forever.
"""

from __future__ import annotations

from collections.abc import Sequence
from graphlib import CycleError, TopologicalSorter

from aspider._exceptions import ProcessorCycleError
from aspider.processors._python import Processor


def check_graph(processors: Sequence[Processor]) -> list[str]:
    """
    The proctypes in dependency order (upstream first).

    Raises:
        ProcessorCycleError: naming the processors of one cycle, e.g. `a_v1 -> b_v1 -> a_v1`.
    """
    known = {p.proctype: p for p in processors}
    graph = {p.proctype: {u for u in p.upstream_proctypes if u in known} for p in processors}
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        cycle = [str(node) for node in exc.args[1]]
        cycle.reverse()  # graphlib lists it against the edges; show "depends on" order
        source = known[cycle[0]].source if cycle and cycle[0] in known else ""
        raise ProcessorCycleError(cycle, source) from exc
