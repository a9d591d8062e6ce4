"""
pbs: an async driver for batch jobs on PBS (PBS Pro / OpenPBS, Torque), on Slurm, or as local
processes, run locally or over SSH (ssh config aliases and jump hosts included).

One family keeps one job contract (`BatchClient`): `PbsClient` (qsub), `SlurmClient` (sbatch, in
`pbs.slurm`) and `LocalClient` (processes of this machine, in `pbs.local`) say only how their
scheduler differs. They render job scripts, submit them held or not, read job states in batches
(a poll costs the same few commands for one job or ten thousand), tell why a job ended
(`EndCause`), submit many jobs of one request as one job array (`ArraySpec`), and move
files to and from job directories through a `Transport` (`pbs.local`, `pbs.ssh`). A library
on its own: it never imports `aspider` or `xnat_client`.
"""

from ._arrays import ARRAYS_DIR, ArraySpec, array_of, element_ids
from ._arrays import MANIFEST as ARRAY_MANIFEST
from ._batch_client import BatchClient, job_dirs
from ._batches import MAX_ARGUMENT_BYTES
from ._causes import end_cause
from ._dialects import (
    PBSPRO,
    SCHEDULER_LOG,
    TORQUE,
    TORQUE_XML,
    Dialect,
    StatusFormat,
    detect_dialect,
    dialect_named,
)
from ._exceptions import (
    BadSchedulerOutput,
    CommandFailed,
    ConnectFailed,
    ConnectionLost,
    FileMissing,
    FileOperationFailed,
    HostKeyRejected,
    InvalidValue,
    PbsError,
    SchedulerUnavailable,
    SshFileUnreadable,
    SubmitFailed,
    TransportClosed,
)
from ._holds import HELD_MARKER, held_jobs
from ._models import EndCause, JobDirState, JobInfo, JobPoll, JobState
from ._names import (
    JOB_NAME_LIMIT,
    MAX_NAME_LENGTH,
    check_job_id,
    check_job_name,
    check_path,
    job_name,
)
from ._parse import parse_json, parse_text, parse_xml
from ._pbs_client import PbsClient
from ._script import render_job_script
from ._spec import RESERVED_VARIABLES, JobSpec
from ._transport import HIDING_VARIABLES, CommandResult, FileStat, Transport
from .local import LocalClient, LocalTransport
from .slurm import JobTemplate, SlurmClient, parse_sacct, parse_squeue, render_slurm_script
from .ssh import SshSettings, SshTransport

__all__ = [
    "ARRAYS_DIR",
    "ARRAY_MANIFEST",
    "HELD_MARKER",
    "HIDING_VARIABLES",
    "JOB_NAME_LIMIT",
    "MAX_ARGUMENT_BYTES",
    "MAX_NAME_LENGTH",
    "PBSPRO",
    "RESERVED_VARIABLES",
    "SCHEDULER_LOG",
    "TORQUE",
    "TORQUE_XML",
    "ArraySpec",
    "BadSchedulerOutput",
    "BatchClient",
    "CommandFailed",
    "CommandResult",
    "ConnectFailed",
    "ConnectionLost",
    "Dialect",
    "EndCause",
    "FileMissing",
    "FileOperationFailed",
    "FileStat",
    "HostKeyRejected",
    "InvalidValue",
    "JobDirState",
    "JobInfo",
    "JobPoll",
    "JobSpec",
    "JobState",
    "JobTemplate",
    "LocalClient",
    "LocalTransport",
    "PbsClient",
    "PbsError",
    "SchedulerUnavailable",
    "SlurmClient",
    "SshFileUnreadable",
    "SshSettings",
    "SshTransport",
    "StatusFormat",
    "SubmitFailed",
    "Transport",
    "TransportClosed",
    "array_of",
    "check_job_id",
    "check_job_name",
    "check_path",
    "detect_dialect",
    "dialect_named",
    "element_ids",
    "end_cause",
    "held_jobs",
    "job_dirs",
    "job_name",
    "parse_json",
    "parse_sacct",
    "parse_squeue",
    "parse_text",
    "parse_xml",
    "render_job_script",
    "render_slurm_script",
]
