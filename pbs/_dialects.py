"""
Dialects: what differs between Torque (and the Slurm wrappers that imitate it) and PBS Pro /
OpenPBS. The differences are data (how resources are spelled, which qstat formats to ask for);
the client is the same for all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._arrays import ARRAY_SCRIPT, ArraySpec
from ._causes import pbspro_cause, torque_cause
from ._exceptions import InvalidValue
from ._models import EndCause, JobInfo
from ._parse import parse_json, parse_text, parse_xml
from ._spec import JobSpec
from ._transport import Transport

#: Where the scheduler's own messages for the job go (e.g. its walltime-kill notice).
SCHEDULER_LOG = "scheduler.log"


@dataclass(frozen=True)
class StatusFormat:
    """One way to ask qstat about jobs: argv for some ids (none = every job) and its parser."""

    name: str
    argv: Callable[[Sequence[str]], list[str]]
    parse: Callable[[str], list[JobInfo]]


@dataclass(frozen=True)
class Dialect:
    """
    One scheduler flavour.

    `status_formats` are tried in order; a format the server rejects (non-zero exit with no
    output) is skipped for the rest of the client's life. `exit_cause` reads the server's
    exit status of an ended job (the flavours disagree on the negative codes). Arrays are
    `array_flag` (PBS Pro's `-J`, Torque's `-t`), their elements' output `array_output` in the
    array's directory (PBS Pro substitutes `^array_index^`; Torque appends `-<index>` itself).
    """

    name: str
    resources: Callable[[JobSpec], list[str]]
    status_formats: tuple[StatusFormat, ...]
    exit_cause: Callable[[int], EndCause]
    array_flag: str = "-t"
    array_output: str = SCHEDULER_LOG

    def submit_options(self, spec: JobSpec, output: str = SCHEDULER_LOG) -> list[tuple[str, str]]:
        """qsub options, in #PBS-line order; both the script and the command line carry them."""
        if spec.qos is not None:
            raise InvalidValue("qos", spec.qos, "is a Slurm option: PBS has no quality of service")
        options = [("-N", spec.name)]
        options += [("-l", value) for value in self.resources(spec)]
        if spec.queue:
            options.append(("-q", spec.queue))
        if spec.account:
            options.append(("-A", spec.account))
        if spec.mail_events:
            options.append(("-m", spec.mail_events))
        if spec.mail_users:
            options.append(("-M", ",".join(spec.mail_users)))
        options += [("-j", "oe"), ("-o", str(spec.job_dir / output))]
        return options

    def qsub_argv(self, spec: JobSpec) -> list[str]:
        argv = ["qsub", "-h"] if spec.hold else ["qsub"]  # -h: a user hold, lifted by qrls
        for flag, value in self.submit_options(spec):
            argv += [flag, value]
        return [*argv, str(spec.job_dir / "job.sh")]

    def qsub_array_argv(self, array: ArraySpec) -> list[str]:
        """`qsub [-h] -J|-t 0-<n-1>[%M] <options> <array dir>/array.sh`."""
        header = array.header
        argv = ["qsub", "-h"] if header.hold else ["qsub"]
        argv += [self.array_flag, array.index_range]
        for flag, value in self.submit_options(header, self.array_output):
            argv += [flag, value]
        return [*argv, str(array.array_dir / ARRAY_SCRIPT)]


def _torque_resources(spec: JobSpec) -> list[str]:
    # One -l only: the Slurm wrappers honour just the last one.
    parts = [f"nodes=1:ppn={spec.cpus}"]
    if spec.memory_mb is not None:
        parts.append(f"mem={spec.memory_mb}mb")
    parts.append(f"walltime={spec.walltime_text}")
    return [",".join(parts)]


def _pbspro_resources(spec: JobSpec) -> list[str]:
    # select= chunks and nodes= never mix on PBS Pro; walltime is a job-wide resource.
    chunk = f"select=1:ncpus={spec.cpus}"
    if spec.memory_mb is not None:
        chunk += f":mem={spec.memory_mb}mb"
    return [chunk, f"walltime={spec.walltime_text}"]


TORQUE_TEXT = StatusFormat("qstat -f", lambda ids: ["qstat", "-f", *ids], parse_text)
TORQUE_XML_FORMAT = StatusFormat("qstat -x", lambda ids: ["qstat", "-x", *ids], parse_xml)
PBSPRO_JSON = StatusFormat(
    "qstat -f -F json",
    lambda ids: (
        ["qstat", "-E", "-x", "-f", "-F", "json", *ids] if ids else ["qstat", "-f", "-F", "json"]
    ),
    parse_json,
)
PBSPRO_TEXT = StatusFormat(
    "qstat -f -w",
    lambda ids: ["qstat", "-x", "-f", "-w", *ids] if ids else ["qstat", "-f", "-w"],
    parse_text,
)

#: Torque, and the Slurm `slurm-wlm-torque` wrappers (plain `qstat -f`, fields may be missing).
TORQUE = Dialect("torque", _torque_resources, (TORQUE_TEXT,), torque_cause)
#: Torque servers, status read as XML (`qstat -x`).
TORQUE_XML = Dialect(
    "torque-xml", _torque_resources, (TORQUE_XML_FORMAT, TORQUE_TEXT), torque_cause
)
#: PBS Pro / OpenPBS: JSON where the server has it, `-f -w` text otherwise.
PBSPRO = Dialect(
    "pbspro",
    _pbspro_resources,
    (PBSPRO_JSON, PBSPRO_TEXT),
    pbspro_cause,
    array_flag="-J",
    array_output="scheduler.^array_index^.log",
)

DIALECTS = {dialect.name: dialect for dialect in (TORQUE, TORQUE_XML, PBSPRO)}


def dialect_named(name: str) -> Dialect:
    """The dialect for a configuration value: `torque`, `torque-xml` or `pbspro`."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(
            f"unknown PBS dialect {name!r}; choose one of {sorted(DIALECTS)}"
        ) from None


async def detect_dialect(transport: Transport) -> Dialect:
    """
    Ask the server which flavour it is: PBS Pro's `qstat --version` prints `pbs_version = ..`;
    Torque prints `Version: ..` and the Slurm wrappers reject the option.
    """
    result = await transport.run(["qstat", "--version"])
    text = (result.stdout + result.stderr).lower()
    return PBSPRO if "pbs_version" in text else TORQUE
