"""
The effective configuration, resolved once: CLI overrides > environment > settings file.

Environment variables are `ASPIDER_<SECTION>__<FIELD>` (e.g. `ASPIDER_CLUSTER__HOST`). Secrets
never have to be in the settings file, and may not be: the XNAT password comes from
`ASPIDER_XNAT__PASSWORD`, from a file named by `xnat.password_file` (a mounted secret), or from
~/.netrc; an alias token's secret from `ASPIDER_XNAT__SECRET`; the SSH key is a path. Secrets
are `SecretStr`, masked in every print and repr.

The `xnat:` section is `xnat_client.XnatSettings` itself (URL, credentials, concurrency, TLS,
proxy, timeouts, retries), plus `password_file`: the client is made from it with
`XnatClient.from_settings`, so every default is stated once, in the library. The settings file
is read by pydantic-settings' own `YamlConfigSettingsSource`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from aspider._config_errors import validation_problems, xnat_url_problem, yaml_problem
from aspider._environ import taken_secrets
from aspider._exceptions import ConfigError
from aspider.processors import OverrideValue, RetryPolicy, override_key_problem
from xnat_client import XnatSettings

ENV_PREFIX = "ASPIDER_"  # every setting, secrets included, may come from ASPIDER_* variables
SETTINGS_ENV = "ASPIDER_SETTINGS"
DEFAULT_SETTINGS_FILES = (Path("aspider.yaml"), Path("~/.config/aspider/settings.yaml"))
_SECRET_KEYS = {("xnat", "password"), ("xnat", "secret")}


# Defaults the engine's own options share with the settings (`run.sweep.SweepOptions`): stated
# once, here.
DEFAULT_TRANSFERS = 4
DEFAULT_SESSIONS_AT_ONCE = 64
DEFAULT_KEEP_FAILED_DAYS = 7.0


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class XnatSection(XnatSettings):
    """
    `xnat:`: how to reach XNAT (see `xnat_client.XnatSettings`), a mounted password, and
    whether each task's transitions are kept in XNAT's History (one workflow entry each).
    """

    url: str = ""
    password_file: Path | None = None
    history: bool = True

    def resolved_password(self) -> SecretStr | None:
        """The password from the environment or the secret file (netrc is the client's job)."""
        if self.password is not None:
            return self.password
        if self.password_file is not None:
            try:
                return SecretStr(self.password_file.read_text(encoding="utf-8").strip())
            except OSError as exc:
                raise ConfigError(f"xnat.password_file: cannot read it ({exc.strerror})") from exc
        return None

    def client_settings(self) -> XnatSettings:
        """
        What `XnatClient.from_settings` takes: these settings with the password resolved.

        Raises:
            ConfigError: no URL, or one the client cannot use (the message names the fix).
        """
        if not self.url:
            raise ConfigError(
                "xnat.url is not set: set xnat.url in the settings file (`aspider init` writes "
                "one) or ASPIDER_XNAT__URL"
            )
        problem = xnat_url_problem(self.url)
        if problem is not None:
            raise ConfigError(problem)
        fields = {name: getattr(self, name) for name in XnatSettings.model_fields}
        return XnatSettings.model_validate({**fields, "password": self.resolved_password()})


class ClusterSection(_Section):
    """
    `cluster:`: where jobs run (`executor`), how the login node is reached, what jobs ask for.

    `host` may be an alias of the ssh config (`ssh_config`, default ~/.ssh/config; `none` for
    no config): its HostName, Port, User, IdentityFile and ProxyJump apply unless set here.
    `jump_host` lists the bastions to go through, first hop first (a list, or one string with
    the hops comma separated). `job_template`, `qos` and `accounting` are Slurm's.
    """

    executor: Literal["local", "pbs", "slurm"] = "local"
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)  # None: the ssh config's, else 22
    user: str | None = None
    key_path: Path | None = None
    known_hosts: Path | None = None
    ssh_config: str | None = None  # None: ~/.ssh/config (if there); "none": no ssh config
    jump_host: str | None = None
    work_root: str = "aspider-work"
    dialect: Literal["torque", "pbspro"] = "torque"
    queue: str | None = None  # PBS queue; Slurm partition
    account: str | None = None
    qos: str | None = None
    job_template: Path | None = None  # a DAX SLURM job template, read on this machine
    accounting: bool | None = None  # sacct for jobs squeue forgot; None: ask it once
    container_dir: str | None = None
    # then a failed job's directory goes
    keep_failed_days: float = Field(default=DEFAULT_KEEP_FAILED_DAYS, ge=0)

    @field_validator("jump_host", mode="before")
    @classmethod
    def _hops(cls, value: object) -> object:
        """A list of hops is the comma-separated string SshSettings reads."""
        if isinstance(value, list | tuple):
            return ",".join(str(hop).strip() for hop in value) or None
        return value

    @model_validator(mode="after")
    def _slurm_only(self) -> ClusterSection:
        if self.executor != "slurm":
            for name in ("qos", "job_template", "accounting"):
                if getattr(self, name) is not None:
                    raise ValueError(f"{name} is a Slurm setting: it needs executor: slurm")
        return self

    @property
    def over_ssh(self) -> bool:
        """Jobs go to a cluster reached over SSH (else its commands run on this machine)."""
        return self.executor != "local" and bool(self.host)


class LimitsSection(_Section):
    ssh_channels: int = Field(default=8, ge=1)
    transfers: int = Field(default=DEFAULT_TRANSFERS, ge=1)  # files of 1 MiB or more at once
    sessions_at_once: int = Field(default=DEFAULT_SESSIONS_AT_ONCE, ge=1)  # sessions at once
    max_queued: int | None = Field(default=None, ge=0)
    max_queued_per_processor: int | None = Field(default=None, ge=0)


class ServeSection(_Section):
    """`aspider serve`: where it listens, its token, and how often it looks (seconds)."""

    host: str = "127.0.0.1"  # another address needs token_file (the service refuses otherwise)
    port: int = Field(default=8080, ge=0, le=65535)
    token_file: Path | None = None  # a mounted secret: the bearer token POSTs must carry
    poll_interval: float = Field(default=60.0, gt=0)  # per project: one last_modified listing
    settle: float = Field(default=2.0, ge=0)  # a session waits until unchanged this long
    follow_interval: float = Field(default=30.0, gt=0)  # one batched poll of every job
    full_sweep_at: str = Field(default="01:15", pattern=r"^$|^([01]\d|2[0-3]):[0-5]\d$")
    sweep_on_start: bool = True  # catch up on what changed while the service was down
    max_body: int = Field(default=4096, ge=0)  # bytes a POST may carry
    stop_grace: float = Field(default=60.0, ge=0)  # SIGTERM: sweeps in flight may finish
    xnat_link: str = ""  # base URL of XNAT's web pages for links (default: xnat.url)


class ProjectSection(_Section):
    """
    A project to sweep. `processors` names the processors it runs (none named: every loaded
    processor), as a list of proctypes, or as a mapping of proctype -> overrides for this
    project, with the keys a DAX settings file's `arguments` take (`walltime`, `memory`,
    `inputs.xnat.scans.<input>.types`, `....resources.<varname>.fmatch`, ...; see
    `aspider.processors.with_overrides`); `null` for a processor run as its file says:

        projects:
          P1: {processors: [fs_v7, dtiqa_v1]}
          P2:
            processors:
              fs_v7: {walltime: 3-0, inputs.xnat.scans.scan_t1.types: 'T1,MPRAGE*'}
              dtiqa_v1: null
    """

    processors: dict[str, dict[str, OverrideValue]] = Field(default_factory=dict)

    @field_validator("processors", mode="before")
    @classmethod
    def _listed_or_mapped(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return {str(name): {} for name in value}
        if isinstance(value, dict):
            return {name: ({} if o is None else o) for name, o in value.items()}
        return value

    @field_validator("processors")
    @classmethod
    def _dax_keys(
        cls, value: dict[str, dict[str, OverrideValue]]
    ) -> dict[str, dict[str, OverrideValue]]:
        for overrides in value.values():
            for key in overrides:
                problem = override_key_problem(key)
                if problem:
                    raise ValueError(problem)
        return value


class AspiderSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    processor_paths: tuple[Path, ...] = ()  # YAML files or directories of them
    processor_classes: tuple[str, ...] = ()  # `module:Class` Python processors
    projects: dict[str, ProjectSection] = Field(default_factory=dict)
    xnat: XnatSection = XnatSection()
    cluster: ClusterSection = ClusterSection()
    limits: LimitsSection = LimitsSection()
    # The site's retry policy: a processor's own `retry:` fields win over it, field by field.
    retry: RetryPolicy = RetryPolicy()
    serve: ServeSection = ServeSection()

    # The settings file these were read from; None when none was found (see `unconfigured`).
    _file: Path | None = PrivateAttr(default=None)

    @property
    def file(self) -> Path | None:
        return self._file

    def unconfigured(self, what: str, missing: str) -> ConfigError:
        """
        The error to raise when `missing` is not set (`what`: the full message), which says
        first that no settings file was found, and where aspider looked, when that is the cause.
        """
        if self._file is not None:
            return ConfigError(what)
        looked = ", ".join(
            f"./{p}" if not str(p).startswith("~") else str(p) for p in DEFAULT_SETTINGS_FILES
        )
        return ConfigError(
            f"no settings file found (looked in {looked}; {SETTINGS_ENV} is not set), so "
            f"{missing} is not set: run `aspider init` in this folder, or pass --settings FILE"
        )

    def xnat_client_settings(self) -> XnatSettings:
        """`xnat.client_settings()`, its error saying so when no settings file was found."""
        try:
            return self.xnat.client_settings()
        except ConfigError as exc:
            if self.xnat.url:
                raise
            raise self.unconfigured(str(exc), "xnat.url") from exc

    def processors_for(self, project: str) -> tuple[str, ...]:
        """The proctypes a project names (none: it runs every processor)."""
        section = self.projects.get(project)
        return tuple(section.processors) if section is not None else ()

    def overrides_for(self, project: str) -> dict[str, dict[str, OverrideValue]]:
        """proctype -> this project's overrides of it (only those that have some)."""
        section = self.projects.get(project)
        found = section.processors if section is not None else {}
        return {name: o for name, o in found.items() if o}


def find_settings_file(explicit: Path | None) -> Path | None:
    """--settings, else $ASPIDER_SETTINGS, else ./aspider.yaml, else ~/.config/aspider/..."""
    if explicit is not None:
        return explicit
    env = os.environ.get(SETTINGS_ENV)
    if env:
        return Path(env)
    return next((p.expanduser() for p in DEFAULT_SETTINGS_FILES if p.expanduser().is_file()), None)


def yaml_source(path: Path) -> YamlConfigSettingsSource:
    """
    The settings file as pydantic-settings reads it, checked: a mapping without secrets.

    Raises:
        ConfigError: unreadable, not YAML, not a mapping, or holding a secret.
    """
    if not path.is_file():
        raise ConfigError(f"{path}: no such settings file (check --settings or ASPIDER_SETTINGS)")
    try:
        source = YamlConfigSettingsSource(AspiderSettings, yaml_file=path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the settings file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(path, exc)) from exc
    except (AttributeError, TypeError) as exc:  # a list or a scalar, not a mapping
        raise ConfigError(f"{path}: the settings file must be a YAML mapping") from exc
    data = source.init_kwargs
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the settings file must be a YAML mapping")
    for section, key in _SECRET_KEYS:
        if isinstance(data.get(section), dict) and key in data[section]:
            env = f"ASPIDER_{section.upper()}__{key.upper()}"
            raise ConfigError(
                f"{path}: {section}.{key} must not be in the settings file; set {env}, "
                f"or {section}.password_file to a mounted secret, or use ~/.netrc"
            )
    return source


def load_settings(
    path: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> AspiderSettings:
    """
    Resolve the configuration once: overrides > environment > settings file.

    Raises:
        ConfigError: naming each bad field and what it got.
    """
    file_path = find_settings_file(path)
    source = yaml_source(file_path) if file_path is not None else None
    data: dict[str, Any] = source.init_kwargs if source is not None else {}

    class _Loaded(AspiderSettings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            # Secrets taken out of the environment at start (aspider._environ) rank with it.
            secrets = InitSettingsSource(settings_cls, taken_secrets())
            return (init_settings, env_settings, secrets, *((source,) if source else ()))

    try:
        loaded = _Loaded(**dict(overrides or {}))
    except ValidationError as exc:
        lines = validation_problems(exc, AspiderSettings, data, file_path)
        raise ConfigError("\n".join(lines)) from exc
    loaded._file = file_path
    return loaded


def masked_dict(settings: AspiderSettings) -> dict[str, Any]:
    """The effective configuration as data, secrets shown as '**********'."""
    data: dict[str, Any] = settings.model_dump(mode="json")
    return data
