"""
pbs: an async driver for PBS clusters (PBS Pro / OpenPBS and Torque), locally or over SSH.

It renders job scripts, submits them with `qsub`, reads job states in batches and moves files to
and from job directories. A library on its own: it never imports `aspider` or `xnat_client`.
"""

from ._client import MAX_ARGUMENT_BYTES, PbsClient, job_dirs
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
    SshFileUnreadable,
    SubmitFailed,
    TransportClosed,
)
from ._local import LocalTransport
from ._models import JobDirState, JobInfo, JobState
from ._names import MAX_NAME_LENGTH, check_job_id, check_job_name, check_path, job_name_for
from ._parse import parse_json, parse_text, parse_xml
from ._script import render_job_script
from ._spec import RESERVED_VARIABLES, JobSpec
from ._ssh import SshTransport
from ._ssh_settings import SshSettings
from ._transport import HIDING_VARIABLES, CommandResult, FileStat, Transport

__all__ = [
    "HIDING_VARIABLES",
    "MAX_ARGUMENT_BYTES",
    "MAX_NAME_LENGTH",
    "PBSPRO",
    "RESERVED_VARIABLES",
    "SCHEDULER_LOG",
    "TORQUE",
    "TORQUE_XML",
    "BadSchedulerOutput",
    "CommandFailed",
    "CommandResult",
    "ConnectFailed",
    "ConnectionLost",
    "Dialect",
    "FileMissing",
    "FileOperationFailed",
    "FileStat",
    "HostKeyRejected",
    "InvalidValue",
    "JobDirState",
    "JobInfo",
    "JobSpec",
    "JobState",
    "LocalTransport",
    "PbsClient",
    "PbsError",
    "SshFileUnreadable",
    "SshSettings",
    "SshTransport",
    "StatusFormat",
    "SubmitFailed",
    "Transport",
    "TransportClosed",
    "check_job_id",
    "check_job_name",
    "check_path",
    "detect_dialect",
    "dialect_named",
    "job_dirs",
    "job_name_for",
    "parse_json",
    "parse_text",
    "parse_xml",
    "render_job_script",
]
