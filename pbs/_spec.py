"""
JobSpec: everything needed to render and submit one job, validated when it is built.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import _names

#: Variables the wrapper sets itself; a spec may not override them.
RESERVED_VARIABLES = frozenset({"JOBDIR", "INPUTS", "OUTPUTS"})

_MAIL_EVENTS = re.compile(r"n|[abe]+")


class JobSpec(BaseModel):
    """
    One job: its name (the idempotency key), its directory, its command and its resources.

    `command` is a shell script fragment from trusted configuration, run by `/bin/sh` with
    `INPUTS`, `OUTPUTS` and `JOBDIR` exported. Everything else is data and is validated or
    quoted before it reaches a #PBS line, a shell or a path.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="job name; also the directory name under the work root")
    job_dir: PurePosixPath = Field(description="absolute path of the job's directory")
    command: str = Field(min_length=1)
    environment: dict[str, str] = Field(default_factory=dict)
    walltime: timedelta = timedelta(hours=1)
    memory_mb: int | None = Field(default=None, gt=0)
    cpus: int = Field(default=1, ge=1)
    queue: str | None = Field(default=None, description="PBS queue; Slurm partition")
    account: str | None = None
    qos: str | None = Field(default=None, description="Slurm quality of service (Slurm only)")
    mail_events: str | None = Field(default=None, description="'n' or letters of 'abe'")
    mail_users: tuple[str, ...] = ()
    hold: bool = Field(
        default=False,
        description="submitted held: it waits until released (the engine records it first)",
    )
    extra_directives: tuple[str, ...] = Field(
        default=(),
        description="written as `#PBS <directive>` lines (`#SBATCH` for Slurm), in order",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _names.check_job_name(value)

    @field_validator("job_dir", mode="before")
    @classmethod
    def _job_dir(cls, value: object) -> PurePosixPath:
        if not isinstance(value, str | PurePosixPath):
            value = str(value)
        return _names.check_path(value, "job directory")

    @field_validator("command")
    @classmethod
    def _command(cls, value: str) -> str:
        return _names.check_no_nul(value, "command")

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            _names.check_env_key(key)
            if key in RESERVED_VARIABLES:
                raise ValueError(f"environment variable {key} is set by the job wrapper")
            _names.check_no_nul(text, f"value of {key}")
        return value

    @field_validator("walltime")
    @classmethod
    def _walltime(cls, value: timedelta) -> timedelta:
        if value.total_seconds() < 1:
            raise ValueError("walltime must be at least one second")
        return value

    @field_validator("queue", "account", "qos")
    @classmethod
    def _word(cls, value: str | None) -> str | None:
        return None if value is None else _names.check_word(value, "queue, account or qos")

    @field_validator("mail_events")
    @classmethod
    def _mail_events(cls, value: str | None) -> str | None:
        if value is not None and not _MAIL_EVENTS.fullmatch(value):
            raise ValueError("mail_events must be 'n' or letters from 'abe'")
        return value

    @field_validator("mail_users")
    @classmethod
    def _mail_users(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_names.check_word(user, "mail user") for user in value)

    @field_validator("extra_directives")
    @classmethod
    def _directives(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_names.check_line(item, "extra directive") for item in value)

    @property
    def walltime_text(self) -> str:
        """HH:MM:SS, hours unbounded, as every PBS flavour reads it."""
        seconds = int(self.walltime.total_seconds())
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
