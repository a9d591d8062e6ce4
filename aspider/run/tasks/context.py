"""
What every task of one sweep shares, built once by the sweep and handed whole to each session's
executor and each submission, so no collaborator is threaded through constructors by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from aspider.run.backends import JobBackend
from aspider.run.records.assessor_writes import Outcome, Records
from aspider.run.records.workflow_history import History
from aspider.run.tasks.containers import ContainerDigests
from aspider.run.tasks.submission import JobOptions
from aspider.run.tasks.transfers import TransferLimit
from xnat_client import XnatClient

if TYPE_CHECKING:
    from aspider.run.tasks.arrays import SubmissionArrays


@dataclass(frozen=True)
class TaskContext:
    """
    The sweep's collaborators for its tasks.

    `outcome` and `held` are shared and filled as the sessions run: what the sweep did, and the
    jobs an earlier run submitted held and never recorded (a submission of that name adopts its
    job, and takes it out). `arrays`: the sweep's job arrays, which its submissions join
    (None: each job on its own).
    """

    xnat: XnatClient
    backend: JobBackend
    outcome: Outcome
    job_options: JobOptions
    transfers: TransferLimit
    history: History | None = None
    held: dict[str, str] = field(default_factory=dict)
    arrays: SubmissionArrays | None = None
    containers: ContainerDigests = field(init=False)

    def __post_init__(self) -> None:
        root = PurePosixPath(str(self.backend.work_root))
        object.__setattr__(self, "containers", ContainerDigests(self.backend.transport, root))

    def records(self) -> Records:
        """A session's own record of its writes, on the sweep's shared outcome and held jobs."""
        return Records(self.xnat, self.outcome, self.history, self.held)
