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
import re
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
from aspider.processors import (
    OverrideValue,
    RetryPolicy,
    StaleKind,
    TunePolicy,
    override_key_problem,
    stale_kinds,
)
from xnat_client import XnatSettings

ENV_PREFIX = "ASPIDER_"  # every setting, secrets included, may come from ASPIDER_* variables
SETTINGS_ENV = "ASPIDER_SETTINGS"
DEFAULT_SETTINGS_FILES = (Path("aspider.yaml"), Path("~/.config/aspider/settings.yaml"))
# Secrets the settings file may not hold (a path of keys), and where each goes instead.
_SECRET_KEYS = {
    ("xnat", "password"): "xnat.password_file to a mounted secret, or use ~/.netrc",
    ("xnat", "secret"): "xnat.password_file to a mounted secret, or use ~/.netrc",
    ("notify", "email", "password"): "notify.email.password_file to a mounted secret",
    ("notify", "webhook", "token"): "notify.webhook.token_file to a mounted secret",
}


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
    # A sweep's jobs of one processor and request as one job array (Slurm; see docs/deploy.md)
    arrays: bool = True
    array_max: int = Field(default=1000, ge=2)  # elements per array (Slurm's MaxArraySize - 1)
    array_parallel: int | None = Field(default=None, ge=1)  # elements running at once (%M)
    submit_rate: float | None = Field(default=None, gt=0)  # scheduler commands a second

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


def read_secret_file(path: Path, key: str) -> SecretStr:
    """
    A mounted secret's content, stripped.

    Raises:
        ConfigError: naming `key` (the setting that names the file) and why it cannot be read.
    """
    try:
        return SecretStr(path.read_text(encoding="utf-8").strip())
    except OSError as exc:
        raise ConfigError(f"{key}: cannot read {path} ({exc.strerror})") from exc


def check_address(address: str) -> str:
    """An email address as a recipient: `name@host`, one line, no spaces (no header tricks)."""
    text = address.strip()
    if not re.fullmatch(r"[^@\s<>,;]+@[^@\s<>,;]+", text):
        raise ValueError(f"{address!r} is not an email address (name@host)")
    return text


def webhook_url(value: str) -> str:
    """A webhook's address as written, or the fix: it needs its scheme."""
    if value and not value.startswith(("https://", "http://")):
        raise ValueError(f"write the URL with its scheme: https://{value.split('://')[-1]}")
    return value


class EmailSection(_Section):
    """
    `notify.email:` alerts and the digest by SMTP. The password only from the environment
    (ASPIDER_NOTIFY__EMAIL__PASSWORD) or a mounted secret (`password_file`), never this file.
    """

    host: str = ""  # the SMTP server; "" sends no email
    port: int | None = Field(default=None, ge=1, le=65535)  # None: 587, 465 (tls) or 25 (none)
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: str | None = None  # log in as this user (needs a password)
    password: SecretStr | None = None
    password_file: Path | None = None
    sender: str = ""  # the From: address; "" is aspider@<this host>
    to: tuple[str, ...] = ()  # every project's recipients, unless a project names its own
    ca_file: Path | None = None  # a CA bundle for a server whose certificate a private CA signed
    timeout: float = Field(default=30.0, gt=0)  # seconds for each step of the conversation

    @field_validator("host")
    @classmethod
    def _host_alone(cls, value: str) -> str:
        name, colon, port = value.rpartition(":")
        if colon and port.isdigit() and "]" not in port and ":" not in name:
            raise ValueError(f"write the host alone and the port apart: host: {name}, port: {port}")
        return value

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_address(address) for address in value)

    def resolved_password(self) -> SecretStr | None:
        if self.password is not None or self.password_file is None:
            return self.password
        return read_secret_file(self.password_file, "notify.email.password_file")


class WebhookSection(_Section):
    """
    `notify.webhook:` alerts and the digest as JSON POSTed to a URL (Slack, Mattermost and
    Teams incoming webhooks take it). A bearer token only from the environment
    (ASPIDER_NOTIFY__WEBHOOK__TOKEN) or a mounted secret (`token_file`).
    """

    url: str = ""  # "" posts nothing
    token: SecretStr | None = None
    token_file: Path | None = None
    timeout: float = Field(default=10.0, gt=0)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return webhook_url(value)

    def resolved_token(self) -> SecretStr | None:
        if self.token is not None or self.token_file is None:
            return self.token
        return read_secret_file(self.token_file, "notify.webhook.token_file")


class NotifySection(_Section):
    """
    `notify:` who hears about what needs a person: alerts (a task failed, a task blocked for
    long, a project XNAT will not serve, the cluster unreachable, a processor file that does
    not load), each sent once and "resolved" when it clears, and a daily digest.
    """

    enabled: bool = True  # false: nothing is sent (as `aspider run --no-notify`)
    email: EmailSection = EmailSection()
    webhook: WebhookSection = WebhookSection()
    alerts_per_hour: int = Field(default=20, ge=1)  # per channel; past it, one "held back" note
    blocked_after_days: float = Field(default=3.0, ge=0)  # NEED_INPUTS this long is an alert
    # The service waits this long of failed sweeps before it says XNAT or the cluster is down
    # (`aspider run` says so when it ends: it has retried already).
    unreachable_after_minutes: float = Field(default=10.0, ge=0)
    digest_at: str = Field(default="07:00", pattern=r"^$|^([01]\d|2[0-3]):[0-5]\d$")
    status_url: str = ""  # the status page (`aspider serve`), linked from every message
    # Where the problems XNAT cannot keep (XNAT itself failing) are kept, on this host.
    state_dir: Path = Path("~/.local/state/aspider/notify")

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels configured: "email" with a server, "webhook" with a URL."""
        found = ("email",) if self.email.host else ()
        return found + (("webhook",) if self.webhook.url else ())


class ProjectNotify(_Section):
    """`projects.<P>.notify:` this project's own recipients, or silence."""

    enabled: bool = True  # false: no alert and no digest about this project
    to: tuple[str, ...] = ()  # its tasks' alerts and its digest go here instead of notify.email.to
    webhook_url: str = ""  # instead of notify.webhook.url

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        return webhook_url(value)

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_address(address) for address in value)


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
    notify: ProjectNotify = ProjectNotify()
    # which stale results a sweep sends back by itself here (None: the site's `rerun_stale`)
    rerun_stale: tuple[StaleKind, ...] | None = None

    @field_validator("rerun_stale", mode="before")
    @classmethod
    def _stale_kinds(cls, value: Any) -> Any:
        return stale_kinds(value)

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
    # How right-sizing turns earlier jobs into a request (`aspider tune`; `requirements.tune`).
    tune: TunePolicy = TunePolicy()
    # Which stale results a sweep sends back by itself (`inputs`, `upstream`, `processor`);
    # none: stale results are reported only. A project's, or a processor's, own wins.
    rerun_stale: tuple[StaleKind, ...] = ()
    serve: ServeSection = ServeSection()
    notify: NotifySection = NotifySection()

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

    def rerun_stale_for(self, project: str) -> tuple[StaleKind, ...]:
        """The project's `rerun_stale`, else the site's."""
        section = self.projects.get(project)
        own = section.rerun_stale if section is not None else None
        return self.rerun_stale if own is None else own

    @field_validator("rerun_stale", mode="before")
    @classmethod
    def _stale_kinds(cls, value: Any) -> Any:
        return stale_kinds(value)

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
    for keys, instead in _SECRET_KEYS.items():
        if _holds(data, keys):
            env = "ASPIDER_" + "__".join(k.upper() for k in keys)
            raise ConfigError(
                f"{path}: {'.'.join(keys)} must not be in the settings file; set {env}, "
                f"or {instead}"
            )
    return source


def _holds(data: Any, keys: tuple[str, ...]) -> bool:
    """Whether the nested mapping `data` has the path `keys`."""
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return True


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
