"""
A DAX settings file as aspider settings (`aspider import-dax`), checked as DAX would use it.

What maps, each with where it came from (`Carried`): the processor files (`yamlprocessors`,
`sgpprocessors`, joined to `processorlib`), each loaded and validated; each project's processors,
with its per-handle `arguments` as `projects.<P>.processors.<proctype>` overrides (DAX varies a
processor per project by naming the file twice under two handles); the XNAT host and user where
DAX finds them (`attrs.xnat_host`, else `XNAT_HOST`; `attrs.xnat_user`, else the `~/.netrc`
entry of that host); `cluster.executor: slurm` (DAX 2.x submits with sbatch); `jobtemplate` as
`cluster.job_template` when aspider can fill it; `singularity_imagedir`, `queue_limit`,
`job_rungroup`. What does not map is a line each, with the reason; a password never does.

Whatever would make the written settings wrong (an entry of the wrong shape, a missing or
invalid processor file or job template, an aspider settings file given by mistake) is a
`ConfigError`, one line per problem: `file:line: where: what; the fix`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit

import yaml

from aspider._config_errors import did_you_mean, xnat_url_problem, yaml_problem
from aspider._exceptions import ConfigError, ProcessorError
from aspider.processors import (
    OverrideValue,
    Processor,
    load_processor,
    override_key_problem,
    with_overrides,
)
from aspider.settings import AspiderSettings
from pbs import InvalidValue, JobTemplate
from xnat_client import AuthFailed, Credentials

# DAX attrs that have no aspider setting, and why.
_UNMAPPED_ATTRS = {
    "queue_limit_pending": "aspider limits what is queued or running (limits.max_queued) only",
    "limit_pendinguploads": "aspider uploads outputs as jobs end, in the sweep",
    "launch_delay_sec": "aspider submits without pauses, within its limits",
    "root_job_dir": "aspider jobs run in their job directory under cluster.work_root",
    "priority_project": "aspider orders by processor priority, then session age",
    "job_email": "aspider sends no mail; its run summary and status page report jobs",
    "job_email_options": "aspider sends no mail",
    "cr": "not needed: aspider reads XNAT's answers as they come",
    "launcher_type": "aspider has one way to run",
    "skip_lastupdate": "aspider decides what changed from each session's state",
}
_MAPPED_ATTRS = {"xnat_host", "xnat_user", "xnat_pass", "queue_limit", "job_rungroup"}
_UNMAPPED_TOP = {
    "resdir": "DAX's local results folder (DISKQ, outputs before upload); aspider's job "
    "directories are in cluster.work_root",
    "modulelib": "DAX modules are not processors",
    "modules": "DAX modules are not processors",
    "processors": "legacy (v1/v2) processors: aspider reads v3 processor files only",
    "smtp_host": "aspider sends no mail",
    "timeout_emails": "aspider sends no mail",
}
_SECTIONS = ("yamlprocessors", "sgpprocessors")
_MAPPED_TOP = {*_SECTIONS, "attrs", "processorlib", "singularity_imagedir", "jobtemplate"}
_MAPPED_TOP |= {"projects", "admin_email"}
_PROJECT_KEYS = {"project", *_SECTIONS}
# Only aspider's settings have these; a DAX file never does.
_ASPIDER_ONLY = sorted(set(AspiderSettings.model_fields) - _MAPPED_TOP - set(_UNMAPPED_TOP))
# What a DAX job template does after ${job_cmds} when it is DAX's whole job (VUIIS's
# job_template_v3.txt): download INLIST from XNATHOST, run MAINCMD, leave DSTDIR for upload.
_DAX_JOB_BODY = re.compile(r"\$\{?(INLIST|OUTLIST|MAINCMD|DSTDIR|XNATHOST|XNATUSER)\b")
# Placeholders DAX fills and aspider does not (pbs.JobTemplate fills the others as DAX does).
_DAX_ONLY_PLACEHOLDERS = ("job_env", "xnat_host")
_ENTRY = "`- {name: NAME, filepath: NAME_vX.Y.Z.yaml}`"


@dataclass(frozen=True)
class Carried:
    """One aspider setting written, and the DAX setting (file:line) or file it came from."""

    setting: str
    value: str
    source: str


@dataclass
class Conversion:
    """The aspider settings (as data), and what a person should read about them."""

    settings: dict[str, Any] = field(default_factory=dict)
    carried: list[Carried] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # to know, or still to do
    unmapped: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)  # kept in the file, as YAML comments


@dataclass(frozen=True)
class DaxEnvironment:
    """What DAX reads besides its settings file: `XNAT_HOST`, `~/.netrc`, the current folder."""

    xnat_host: str | None
    netrc: Path
    cwd: Path

    @classmethod
    def current(cls) -> DaxEnvironment:
        home = Path.home()
        return cls(os.environ.get("XNAT_HOST") or None, home / ".netrc", Path.cwd())


@dataclass(frozen=True)
class DaxDocument:
    """A DAX settings file as data, and as YAML's node tree, which knows the line of each key."""

    data: dict[str, Any]
    node: yaml.Node | None
    path: Path

    def at(self, *where: str | int) -> str:
        """`file:line` of a key or list item (`"projects", 0`), else of its nearest parent."""
        node, line = self.node, 1 if self.node is None else self.node.start_mark.line + 1
        for part in where:
            child = _child(node, part)
            if child is None:
                break
            node, line = child
        return f"{self.path}:{line}"


def _child(node: yaml.Node | None, part: str | int) -> tuple[yaml.Node, int] | None:
    """The node under `part`, and the line of its key (of the item, in a list)."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return value, key.start_mark.line + 1
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item, item.start_mark.line + 1
    return None


def read_dax_settings(path: Path) -> DaxDocument:
    """
    A DAX settings file, read and checked for DAX's shape.

    Raises:
        ConfigError: unreadable, not YAML, an aspider settings file, or no `projects:` list.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(path, exc)) from exc
    except (ValueError, TypeError, RecursionError) as exc:  # what PyYAML lets through
        raise ConfigError(f"{path}: not YAML DAX can read ({exc})") from exc
    finally:
        loader.dispose()
    doc = DaxDocument(data if isinstance(data, dict) else {}, node, path)
    _check_dax_shape(doc, data)
    return doc


def _check_dax_shape(doc: DaxDocument, data: Any) -> None:
    dax_shape = "a DAX settings file is a mapping with `attrs:` and a `projects:` list"
    if not isinstance(data, dict):
        raise ConfigError(f"{doc.path}:1: not a DAX settings file: {dax_shape}")
    projects = data.get("projects")
    theirs = [key for key in _ASPIDER_ONLY if key in data]
    if isinstance(projects, dict) or theirs:
        why = (
            f"it has {', '.join(f'`{k}:`' for k in theirs)}"
            if theirs
            else "its projects: is a mapping"
        )
        where = doc.at(theirs[0]) if theirs else doc.at("projects")
        raise ConfigError(
            f"{where}: this is an aspider settings file ({why}; DAX lists `- project: NAME` "
            f"entries), not a DAX one: use it as it is: aspider config show --settings {doc.path}"
        )
    if "projects" not in data:
        raise ConfigError(f"{doc.path}:1: not a DAX settings file: no `projects:` ({dax_shape})")
    if not isinstance(projects, list):
        raise ConfigError(
            f"{doc.at('projects')}: projects: a list of `- project: NAME` entries, not "
            f"{_shown(projects)}"
        )


def convert(doc: DaxDocument, env: DaxEnvironment) -> Conversion:
    """
    The aspider settings a DAX settings document comes to, each processor file loaded.

    Raises:
        ConfigError: every problem found, one line each (file:line: where: what; fix).
    """
    job = _Import(doc, env)
    _xnat(job)
    _cluster(job)
    _limits(job)
    handles = _handles(job)
    paths = list(dict.fromkeys(str(h.path) for h in handles.values() if h is not None))
    if paths:
        job.out.settings["processor_paths"] = paths
        where = next((s,) for s in _SECTIONS if s in doc.data)
        job.carry_from(where, "processor_paths", f"{len(paths)} file(s), each loaded and valid")
    _projects(job, handles)
    _other_keys(job)
    if job.problems:
        raise ConfigError("\n".join(job.problems))
    return job.out


@dataclass
class _Import:
    """One import under way: the document, what it comes to, and the problems found."""

    doc: DaxDocument
    env: DaxEnvironment
    out: Conversion = field(default_factory=Conversion)
    problems: list[str] = field(default_factory=list)

    def problem(self, where: tuple[str | int, ...], message: str) -> None:
        self.problems.append(f"{self.doc.at(*where)}: {_dotted(where)}: {message}")

    def carry(self, setting: str, value: str, source: str) -> None:
        self.out.carried.append(Carried(setting, value, source))

    def source(self, *where: str | int) -> str:
        return f"{_dotted(where)} ({self.doc.at(*where)})"

    def carry_from(self, where: tuple[str | int, ...], setting: str, value: str) -> None:
        self.carry(setting, value, self.source(*where))

    def section(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.out.settings.setdefault(name, {})
        return found

    def mapping(self, *where: str | int) -> dict[str, Any]:
        value = _get(self.doc.data, where)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(where, f"a mapping of key: value, not {_shown(value)}")
            return {}
        return value

    def text(self, *where: str | int) -> str | None:
        value = _get(self.doc.data, where)
        if value is None or value == "":
            return None
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value).strip() or None
        self.problem(where, f"one value (text), not {_shown(value)}")
        return None

    def path(self, raw: str, base: str | None = None) -> Path:
        """A path as DAX opens it: `~` expanded, relative to `base`, then to the current folder."""
        path = _expanded(raw)
        if not path.is_absolute() and base:
            path = _expanded(base) / path
        return Path(os.path.normpath(self.env.cwd / path))


def _expanded(raw: str) -> Path:
    try:
        return Path(raw).expanduser()
    except RuntimeError:  # `~someone` with no such user: a name like any other
        return Path(raw)


def _get(data: Any, where: tuple[str | int, ...]) -> Any:
    for part in where:
        if isinstance(part, int):
            data = data[part] if isinstance(data, list) and part < len(data) else None
        else:
            data = data.get(part) if isinstance(data, dict) else None
    return data


def _dotted(where: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where).lstrip(".")


def _shown(value: Any) -> str:
    kinds = {dict: "a mapping", list: "a list", bool: "true/false", type(None): "nothing"}
    return kinds.get(type(value), repr(value))


def _relative_hint(raw: str, base: str | None = None) -> str:
    if (_expanded(base) / raw if base else _expanded(raw)).is_absolute():
        return ""
    return (
        " (a relative path is read from the current folder, as DAX reads it: run import-dax "
        "where dax runs, e.g. the home folder for cron)"
    )


def _xnat(job: _Import) -> None:
    url = job.text("attrs", "xnat_host")
    source = job.source("attrs", "xnat_host")
    if url is None and job.env.xnat_host:
        url, source = job.env.xnat_host, "$XNAT_HOST"
    if url is None:
        job.out.notes.append(
            f"xnat.url is not set: {job.doc.path} has no attrs.xnat_host and XNAT_HOST is not "
            "set here; set xnat.url in the written settings (e.g. https://xnat.example.org)"
        )
    else:
        job.section("xnat")["url"] = url
        job.carry("xnat.url", url, source)
        problem = _url_problem(url)
        if problem is not None:
            job.out.notes.append(f"{problem} (in the written settings)")
            url = None  # no host to look up in ~/.netrc
    _xnat_user(job, url)


def _url_problem(url: str) -> str | None:
    try:
        return xnat_url_problem(url)
    except ValueError as exc:  # urlsplit's: a broken [IPv6] host
        return f"xnat.url {url!r} is not a URL ({exc})"


def _xnat_user(job: _Import, url: str | None) -> None:
    """The user from the file, else the login of ~/.netrc's entry for the host, as DAX finds it."""
    user = job.text("attrs", "xnat_user")
    host = (urlsplit(url).hostname or url) if url else None
    found = None
    try:
        found = Credentials.from_netrc(url, job.env.netrc) if url else None
    except (AuthFailed, OSError, ValueError) as exc:
        job.out.notes.append(f"{job.env.netrc}: {exc}: aspider reads it too; fix it")
    if user is not None:
        job.carry_from(("attrs", "xnat_user"), "xnat.user", user)
    elif found is not None:
        user = found.user
        job.carry("xnat.user", user, f"{job.env.netrc} (its entry for {host})")
    if user is not None:
        job.section("xnat")["user"] = user
    job.out.notes.append(_password_note(job, host, user, found))


def _password_note(
    job: _Import, host: str | None, user: str | None, found: Credentials | None
) -> str:
    sources = "ASPIDER_XNAT__PASSWORD, or xnat.password_file (a mounted secret)"
    if host is None:
        return f"password: aspider reads it from {sources}, or ~/.netrc's entry for xnat.url's host"
    if found is not None and user not in (None, found.user):
        return (
            f"password: aspider reads it from {job.env.netrc} (its entry for {host}), and logs "
            f"in as that entry's user {found.user}, not {user}: make the two agree"
        )
    if found is not None:
        return f"password: aspider reads it from {job.env.netrc} (its entry for {host}), as DAX did"
    return (
        f"password: none for {host} in {job.env.netrc}; aspider never keeps one in its settings "
        f"file: set {sources}, or add `machine {host} login {user or 'USER'} password ...` "
        "to ~/.netrc (mode 600)"
    )


def _cluster(job: _Import) -> None:
    cluster = job.section("cluster")
    cluster["executor"] = "slurm"
    job.out.notes.append(
        "cluster.executor: slurm, as every DAX 2.x site submits with sbatch; cluster.host is "
        "not set: aspider runs sbatch and squeue on this machine, as DAX did (set cluster.host "
        "and user to submit over SSH from elsewhere)"
    )
    account = job.text("attrs", "job_rungroup")
    if account is not None:
        cluster["account"] = account
        job.carry_from(("attrs", "job_rungroup"), "cluster.account", account)
    images = job.text("singularity_imagedir")
    if images is not None:
        cluster["container_dir"] = images
        job.carry_from(("singularity_imagedir",), "cluster.container_dir", images)
    raw = job.text("jobtemplate")
    if raw is not None:
        _job_template(job, raw, cluster)


def _job_template(job: _Import, raw: str, cluster: dict[str, Any]) -> None:
    path = job.path(raw)
    fix = "or delete jobtemplate (aspider then writes its own job scripts)"
    try:
        text = path.read_text(encoding="utf-8")
        JobTemplate(text)
    except FileNotFoundError:
        job.problem(
            ("jobtemplate",), f"{path} does not exist{_relative_hint(raw)}: correct it, {fix}"
        )
        return
    except InvalidValue as exc:  # a ValueError too: before the next
        job.problem(("jobtemplate",), f"{path} is no job template: it {exc.reason}: fix it, {fix}")
        return
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, or a NUL in the name
        job.problem(("jobtemplate",), f"cannot read {path} ({exc}): fix it, {fix}")
        return
    if _DAX_JOB_BODY.search(text):
        _dax_job_body(job, path)
        return
    cluster["job_template"] = str(path)
    job.carry_from(("jobtemplate",), "cluster.job_template", str(path))
    job.out.notes.append(
        "cluster.job_template: same placeholders as DAX (${job_cmds}, ${job_walltime}, "
        "${job_memory}, ${job_ppn}, ... filled by string.Template's safe_substitute); but "
        "${job_cmds} is one command that runs aspider's whole job, and aspider's #SBATCH lines "
        "follow the #! line"
    )
    unfilled = sorted(set(_DAX_ONLY_PLACEHOLDERS) & set(Template(text).get_identifiers()))
    if unfilled:
        names = ", ".join(f"${{{name}}}" for name in unfilled)
        job.out.notes.append(
            f"cluster.job_template: aspider does not fill {names}, which DAX fills (its jobs "
            "never source an env file nor reach XNAT): the shell finds them unset, empty"
        )


def _dax_job_body(job: _Import, path: Path) -> None:
    job.out.notes.append(
        f"jobtemplate {path}: not carried: after ${{job_cmds}} it is DAX's own job (curl "
        "downloads from $XNATHOST, $MAINCMD, outputs left in $DSTDIR for dax upload), while "
        "aspider's ${job_cmds} is the whole job; aspider writes its own job scripts until "
        "cluster.job_template names a template with only the site lines (#SBATCH, module "
        "load) and ${job_cmds}"
    )
    job.out.comments.append(
        f"cluster.job_template: not set from DAX's jobtemplate {path}: it is DAX's whole job "
        "(curl downloads, $MAINCMD, $DSTDIR); keep its site lines and ${job_cmds} in a "
        "template of their own and name it here"
    )


def _limits(job: _Import) -> None:
    attrs = job.mapping("attrs")
    limit = job.text("attrs", "queue_limit")
    if limit is not None:
        if limit.isdecimal():
            job.section("limits")["max_queued"] = int(limit)
            job.carry_from(("attrs", "queue_limit"), "limits.max_queued", limit)
        else:
            job.problem(("attrs", "queue_limit"), f"a whole number of jobs, not {limit!r}")
    for key, why in _UNMAPPED_ATTRS.items():
        if key in attrs:
            job.out.unmapped.append(f"attrs.{key}: {why}")
    if "xnat_pass" in attrs:
        job.out.unmapped.append("attrs.xnat_pass: a password is never written to a settings file")
    for key in attrs:
        if key not in _MAPPED_ATTRS and key not in _UNMAPPED_ATTRS:
            job.out.unmapped.append(f"attrs.{key}: not a DAX setting aspider knows")


@dataclass(frozen=True)
class _Handle:
    """A processor entry of the DAX file: its file, loaded, and its `arguments`."""

    path: Path
    processor: Processor
    arguments: dict[str, OverrideValue]


_Handles = dict[tuple[str, str], _Handle | None]  # (section, name) -> None: reported already


def _handles(job: _Import) -> _Handles:
    lib = job.text("processorlib")
    found: _Handles = {}
    for section in _SECTIONS:
        entries = _get(job.doc.data, (section,))
        if entries is not None and not isinstance(entries, list):
            job.problem((section,), f"a list of {_ENTRY} entries, not {_shown(entries)}")
            continue
        for index, entry in enumerate(entries or []):
            name = entry.get("name") if isinstance(entry, dict) else None
            if name is None or name == "" or not isinstance(entry.get("filepath"), str):
                job.problem((section, index), f"{_shown(entry)} is not an entry: write {_ENTRY}")
                continue
            found[(section, str(name))] = _handle(job, (section, index), str(name), lib)
    _one_file_per_proctype(job, found)
    return found


def _handle(
    job: _Import, where: tuple[str | int, ...], name: str, lib: str | None
) -> _Handle | None:
    raw = str(_get(job.doc.data, (*where, "filepath")))
    path = job.path(raw, lib)
    leave_out = f"or take {name} out of {where[0]} and of the projects that name it"
    if not path.is_file():
        fix = "correct filepath (or processorlib)"
        job.problem(
            (*where, "filepath"),
            f"{path} does not exist{_relative_hint(raw, lib)}: {fix}, {leave_out}",
        )
        return None
    try:
        processor = load_processor(path)
    except ProcessorError as exc:
        job.problem(where, f"{name}: {path} is not a processor aspider runs: fix it, {leave_out}:")
        job.problems.extend(str(issue) for issue in exc.issues)
        return None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        job.problem(where, f"{name}: cannot read {path} ({exc}): fix it, {leave_out}")
        return None
    arguments = _arguments(job, where, processor)
    if where[0] == "sgpprocessors" and arguments:
        job.out.unmapped.append(
            f"sgpprocessors {name}: DAX ignores arguments of subject processors; "
            "aspider applies them"
        )
    return _Handle(path, processor, arguments)


def _arguments(
    job: _Import, where: tuple[str | int, ...], processor: Processor
) -> dict[str, OverrideValue]:
    """The entry's `arguments` as aspider overrides, each checked against its processor."""
    chosen: dict[str, OverrideValue] = {}
    for key, value in job.mapping(*where, "arguments").items():
        problem = override_key_problem(str(key))
        if problem:
            job.out.unmapped.append(f"{_dotted(where)}.arguments: {problem}")
        elif isinstance(value, str | int | float | bool):
            chosen[str(key)] = value
        else:
            job.problem((*where, "arguments", str(key)), f"one value, not {_shown(value)}")
    place = f"{job.doc.at(*where, 'arguments')}: {_dotted(where)}.arguments"
    try:
        with_overrides(processor, chosen, place)
    except ConfigError as exc:
        job.problems.append(str(exc))
    return chosen


def _one_file_per_proctype(job: _Import, handles: _Handles) -> None:
    first: dict[str, Path] = {}
    for (section, name), handle in handles.items():
        if handle is None:
            continue
        seen = first.setdefault(handle.processor.proctype, handle.path)
        if seen != handle.path:
            job.problems.append(
                f"{job.doc.at(section)}: {section} {name}: {handle.path} and {seen} are both "
                f"{handle.processor.proctype}: aspider loads one file per proctype; keep one"
            )


def _projects(job: _Import, handles: _Handles) -> None:
    chosen: dict[str, dict[str, dict[str, OverrideValue] | None]] = {}
    first: dict[str, tuple[str | int, ...]] = {}
    for index, entry in enumerate(job.doc.data["projects"]):
        where: tuple[str | int, ...] = ("projects", index)
        if not isinstance(entry, dict):
            example = entry if isinstance(entry, str | int) else "NAME"
            job.problem(
                where,
                f"{_shown(entry)} is not a project entry: DAX reads `- project: {example}` "
                "with `yamlprocessors: NAME, NAME` under it",
            )
            continue
        project = job.text(*where, "project")
        if project is None:
            if _get(entry, ("project",)) in (None, ""):  # else reported as a wrong value
                job.problem(where, "no `project:`: write `- project: NAME` first in each entry")
            continue
        processors = chosen.setdefault(project, {})
        first.setdefault(project, (*where, "project"))
        for section, name in _names(job, where):
            _choose(job, (*where, section), project, processors, handles, (section, name))
        _project_leftovers(job, where, project, entry)
    for project, processors in chosen.items():
        if not processors:
            job.out.unmapped.append(
                f"project {project}: no v3 processor to run (left out: an aspider project "
                "without processors named would run every processor)"
            )
            continue
        job.out.settings.setdefault("projects", {})[project] = {"processors": processors}
        shown = [f"{p} ({len(o)} override(s))" if o else p for p, o in processors.items()]
        job.carry_from(first[project], f"projects.{project}", ", ".join(shown))


def _names(job: _Import, where: tuple[str | int, ...]) -> list[tuple[str, str]]:
    """(section, name) of each processor an entry names: `a, b` as DAX writes it, or a list."""
    names = []
    for section in _SECTIONS:
        value = _get(job.doc.data, (*where, section))
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ",".join(value)
        if value is not None and not isinstance(value, str):
            job.problem((*where, section), f"names separated by commas, not {_shown(value)}")
            continue
        names += [(section, n.strip()) for n in (value or "").split(",") if n.strip()]
    return names


def _choose(
    job: _Import,
    where: tuple[str | int, ...],
    project: str,
    processors: dict[str, dict[str, OverrideValue] | None],
    handles: _Handles,
    key: tuple[str, str],
) -> None:
    section, name = key
    if key not in handles:
        known = [n for s, n in handles if s == section]
        guess = did_you_mean(name, known)
        other = [s for s in _SECTIONS if (s, name) in handles]
        hint = f"; it is in {other[0]}" if other else f"; did you mean {guess}?" if guess else ""
        job.problem(where, f"no {section} entry named {name!r}{hint}")
        return
    handle = handles[key]
    if handle is None:
        return
    proctype = handle.processor.proctype
    if proctype in processors:
        job.out.unmapped.append(
            f"project {project}: {name} is {proctype} again (a project runs one processor per "
            "proctype); kept the first"
        )
        return
    processors[proctype] = dict(handle.arguments) or None


def _project_leftovers(
    job: _Import, where: tuple[str | int, ...], project: str, entry: dict[str, Any]
) -> None:
    for key, value in entry.items():
        if key in ("processors", "modules") and value:
            job.out.unmapped.append(f"project {project}: {key} {value}: {_UNMAPPED_TOP[key]}")
        elif key not in _PROJECT_KEYS and key not in ("processors", "modules"):
            job.out.unmapped.append(f"{_dotted((*where, key))}: not a DAX setting aspider knows")


def _other_keys(job: _Import) -> None:
    data = job.doc.data
    email = job.text("admin_email")
    if email is not None:
        job.out.comments.append(
            f"admin_email: {email}  (from DAX; aspider does not send email yet)"
        )
        job.out.notes.append(
            f"admin_email {email}: kept as a comment in the settings; aspider does not send email "
            "yet (its run summary, `aspider status` and the status page of `aspider serve` report "
            "jobs)"
        )
    for key, why in _UNMAPPED_TOP.items():
        if data.get(key):
            job.out.unmapped.append(f"{key}: {why}")
    for key in data:
        if key not in _MAPPED_TOP and key not in _UNMAPPED_TOP:
            job.out.unmapped.append(f"{key}: not a DAX setting aspider knows")
