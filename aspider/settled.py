"""
Settled pairs: a (processor, scope) whose planning is known to yield nothing.

Most nights nothing changes: every task of every processor already has its assessor in a final
state. Planning such a pair builds full candidates and walks the state table only to find no
action and no finding, and on a 10,000-session project that is most of a sweep's CPU. The
check here proves the same outcome from the candidate keys alone, so the planner can skip the
pair. It must never say "settled" where planning would act or report: the planner's tests run
every scenario with and without the skip and compare the plans.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aspider.matching import Scope, candidate_keys, scope_index
from aspider.states import QC_RERUN, Event, ProcStatus, normalise_procstatus, transition

if TYPE_CHECKING:
    from aspider.processors._python import Processor

#: Final states: the planner's event for them is STEADY unless QC asks for a rerun, and
#: STEADY leads nowhere (no action) from them.
SETTLED_STATES = frozenset(
    state
    for state in (ProcStatus.COMPLETE, ProcStatus.JOB_FAILED, ProcStatus.NO_DATA)
    if not transition(state, Event.STEADY).actions
)


def is_settled(processor: Processor, scope: Scope) -> bool:
    """
    True when planning `processor` in `scope` would yield no action and no finding.

    That holds when the processor's assessors in the scope and its candidates pair up one to
    one by inputs (no candidate to create, no duplicate, no orphan, every assessor with an
    `inputs` field), and every assessor is in a settled state with no QC rerun request.
    Anything else, including a processor that does not apply, is left to the full planning.
    """
    existing = scope_index(scope).of_proctype(processor.proctype)
    if not existing:
        return False
    keys = set()
    for art in existing:
        assessor = art.assessor
        if (
            art.key is None
            or assessor.qcstatus in QC_RERUN
            or normalise_procstatus(assessor.procstatus) not in SETTLED_STATES
        ):
            return False
        keys.add(art.key)
    if len(keys) != len(existing):
        return False
    wanted = candidate_keys(processor, scope)
    return len(wanted) == len(keys) and set(wanted) == keys
