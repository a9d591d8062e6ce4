"""
Sending tasks back to NEED_TO_RUN by hand (`aspider rerun`); the next sweep resubmits them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from aspider.plan import ProcStatus, normalise_procstatus
from aspider.run.engine import NETWORK, Wiring
from aspider.settings import AspiderSettings
from xnat_client import AssessorFields

_IN_FLIGHT = (ProcStatus.JOB_RUNNING, ProcStatus.READY_TO_UPLOAD, ProcStatus.UPLOADING)


@dataclass
class RerunResult:
    sent_back: list[str] = field(default_factory=list)
    left_running: list[str] = field(default_factory=list)


async def send_back(
    settings: AspiderSettings,
    project: str,
    proctypes: Collection[str],
    statuses: Sequence[str],
    sessions: Sequence[str],
    *,
    wiring: Wiring = NETWORK,
) -> RerunResult:
    """
    Send back the tasks of our processors that match.

    Only assessors of the loaded processors are touched: another pipeline's records are not
    ours to reset. A task whose job may still run (JOB_RUNNING, or its outputs on their way)
    is left alone: sent back, it would be submitted again beside the job still running, and
    the older job's outputs could then be taken for the new run's.
    """
    result = RerunResult()
    async with wiring.xnat(settings) as xnat:
        snapshot = await xnat.project_snapshot(project)
        for s in snapshot.sessions:
            if sessions and s.label not in sessions:
                continue
            for a in s.assessors:
                if a.proctype not in proctypes:
                    continue
                if statuses and a.procstatus.upper() not in statuses:
                    continue
                if normalise_procstatus(a.procstatus) in _IN_FLIGHT:
                    result.left_running.append(a.label)
                    continue
                fields = AssessorFields(
                    procstatus=ProcStatus.NEED_TO_RUN.value, note="sent back by aspider rerun"
                )
                await xnat.update_assessor(s.id, a.id, fields)
                result.sent_back.append(a.label)
    return result
