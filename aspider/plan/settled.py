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

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aspider import __version__
from aspider.plan.artefacts import scope_index
from aspider.plan.scope_matching import candidate_keys
from aspider.plan.states import QC_RERUN, Event, ProcStatus, normalise_procstatus, transition

if TYPE_CHECKING:
    from aspider.plan.scopes import Scope
    from aspider.processors import Processor
    from xnat_client import Session

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
    A processor that does not apply (no candidate) and has no assessor there is settled too.
    Anything else is left to the full planning.
    """
    existing = scope_index(scope).of_proctype(processor.proctype)
    if not existing:
        return not candidate_keys(processor, scope)  # does not apply, and nothing to follow
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


# --- sessions remembered as settled between sweeps ---------------------------------------


@dataclass
class SettledMemo:
    """
    Sessions found settled by the last sweep, by fingerprint; and those this sweep finds.

    Most nights the same sessions are settled again. A session whose fingerprint (everything
    `is_settled` and `aspider.plan.staleness` read of it, and the processors' definitions)
    equals the one remembered is settled, and its results fresh, for every session- and
    scan-level processor (`unchanged_proctypes`) without matching or checking any of them
    (`unchanged`: those sessions this sweep). The planner fills `found` (a session with a
    stale result is left out: it is looked at again); the sweep keeps it in the work root for
    the next one.
    """

    previous: Mapping[str, str] = field(default_factory=dict)
    found: dict[str, str] = field(default_factory=dict)
    unchanged: set[str] = field(default_factory=set)
    unchanged_proctypes: frozenset[str] = frozenset()


def processors_digest(processors: Sequence[Processor]) -> str:
    """Changes whenever a processor's definition, or aspider itself, changes."""
    parts = sorted(
        (p.proctype, p.procversion, p.spec.model_dump_json(), type(p).__qualname__)
        for p in processors
    )
    return hashlib.blake2b(repr((__version__, parts)).encode(), digest_size=16).hexdigest()


def session_fingerprint(project: str, session: Session, digest: str) -> str:
    """
    A digest of what settling a session's pairs, and telling its results stale, depends on:
    the artefact paths (project, subject and session labels, scan IDs, assessor labels), the
    scans' types and quality and their resources' file counts and sizes, and the assessors'
    proctypes, statuses, QC, inputs, job ids and notes (as XNAT holds them: any change of the
    text is a change); plus the processors' digest.
    """
    fields = [digest, project, session.subject_label, session.label, session.id]
    fields += [str(len(session.scans)), str(len(session.assessors))]
    for c in session.scans:
        fields += (c.id, c.type, c.quality, str(len(c.resources)))
        for r in c.resources:  # their counts and sizes: what staleness compares
            fields += (r.label, str(r.file_count), str(r.file_size))
    for a in session.assessors:
        fields += (a.label, a.proctype, a.procstatus, a.qcstatus, a.inputs_raw, a.jobid, a.note)
    text = _SEP.join(fields)
    if text.count(_SEP) != len(fields) - 1:  # a value holding the separator: no ambiguity
        text = repr(fields)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


_SEP = "\x1f"  # ASCII unit separator: between a fingerprint's fields
