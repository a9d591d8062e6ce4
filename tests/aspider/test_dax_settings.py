"""
Per-project overrides with DAX's `arguments` keys, and DAX settings files imported: three as
sites write them, each followed by the checks the import prints, run as printed against the
XNAT-compatible server; malformed ones refused by file and line.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from aspider._exceptions import ConfigError
from aspider.cli import app
from aspider.plan import iter_scopes, match_scope
from aspider.processors import load_processor, with_overrides
from aspider.run.commands.runner import for_project
from aspider.settings import AspiderSettings, load_settings
from pbs import JobSpec, JobTemplate
from tests.aspider.conftest import runner
from tests.aspider.processes import clean_env, run_aspider, xnat_over_tcp
from tests.aspider.snapshots import scan, session, snapshot
from xnat_client.sandbox import XnatServer, generate_project

OURS = Path(__file__).parents[1] / "dax_compat" / "processors"


def test_overrides_change_types_fmatch_and_requirements() -> None:
    """DAX's keys: an input's types and keep_multis, a resource's fmatch by its (default)
    varname, walltime and memory; the file's own processor is left as it was."""
    anat = load_processor(OURS / "anat_v1.0.0.yaml")
    changed = with_overrides(
        anat,
        {
            "inputs.xnat.scans.scan_t1.types": "FLAIR",
            "inputs.xnat.scans.scan_t1.keep_multis": "all",
            "inputs.xnat.scans.scan_t1.resources.scan_t1-NIFTI-0.fmatch": "*.nii",
            "walltime": "1-00",
            "attrs.memory": "32G",
        },
        "projects.P.processors.anat_v1",
    )
    scan_in = changed.spec.inputs.xnat.scans[0]
    assert (scan_in.types, scan_in.keep_multis, scan_in.resources[0].fmatch) == (
        "FLAIR",
        "all",
        "*.nii",
    )
    assert (changed.spec.requirements.walltime, changed.spec.requirements.memory_mb) == (
        "1-00",
        32768,
    )
    assert anat.spec.inputs.xnat.scans[0].types == "T1,MPRAGE*"
    flair = snapshot(session(scans=(scan("4", "FLAIR", resources={"NIFTI": 1, "JSON": 1}),)))
    scope = next(iter_scopes(flair, "session"))
    assert match_scope(anat, scope).candidates == ()
    assert len(match_scope(changed, scope).candidates) == 1


def test_an_override_that_does_not_fit_names_itself() -> None:
    """An unknown input (with a suggestion), an unknown resource or a bad value is a
    configuration error naming the settings entry."""
    anat = load_processor(OURS / "anat_v1.0.0.yaml")
    where = "projects.P.processors.anat_v1"
    cases = [
        ({"inputs.xnat.scans.scan_t2.types": "T2"}, "no scan input 'scan_t2'; did you mean"),
        ({"inputs.xnat.scans.scan_t1.resources.X.fmatch": "*"}, "has no resource 'X'"),
        ({"inputs.xnat.scans.scan_t1.keep_multis": "0"}, "keep_multis must be all"),
    ]
    for overrides, message in cases:
        with pytest.raises(ConfigError, match=message) as info:
            with_overrides(anat, overrides, where)
        assert str(info.value).startswith(where)


def test_projects_take_a_list_or_a_mapping_of_processors(tmp_path: Path) -> None:
    """The old list shape still works; the mapping gives each project its own variant; a key
    DAX's arguments do not have is refused when the settings load."""
    path = tmp_path / "aspider.yaml"
    path.write_text(
        "projects:\n"
        "  P1: {processors: [anat_v1]}\n"
        "  P2:\n"
        "    processors:\n"
        "      anat_v1: {walltime: 2-00}\n"
        "      multi_v1: null\n"
    )
    settings = load_settings(path)
    assert settings.processors_for("P1") == ("anat_v1",)
    assert settings.processors_for("P2") == ("anat_v1", "multi_v1")
    procs = [load_processor(OURS / n) for n in ("anat_v1.0.0.yaml", "multi_v1.0.0.yaml")]
    p1, p2 = for_project(settings, "P1", procs), for_project(settings, "P2", procs)
    assert [p.spec.requirements.walltime for p in p1] == ["0-02"]
    assert [(p.proctype, p.spec.requirements.walltime) for p in p2] == [
        ("anat_v1", "2-00"),
        ("multi_v1", "0-01"),
    ]
    path.write_text("projects:\n  P1: {processors: {anat_v1: {vars.x: 1}}}\n")
    with pytest.raises(ConfigError, match=r"'vars\.x' is not an override"):
        load_settings(path)


DAX_SETTINGS = """\
processorlib: {lib}
singularity_imagedir: /opt/images
resdir: /scratch/RESULTS
attrs:
  queue_limit: 40
  queue_limit_pending: 5
  xnat_host: https://xnat.example.org
  xnat_user: spider
  xnat_pass: never-copied
  job_rungroup: lab
yamlprocessors:
  - {{name: anat, filepath: anat_v1.0.0.yaml}}
  - name: anat-flair
    filepath: anat_v1.0.0.yaml
    arguments: {{inputs.xnat.scans.scan_t1.types: FLAIR, walltime: 1-00}}
sgpprocessors:
  - {{name: long, filepath: long_v1.0.0.yaml}}
modules:
  - {{name: m, filepath: Module_x.py}}
projects:
  - {{project: P1, yamlprocessors: anat, sgpprocessors: long}}
  - {{project: P2, yamlprocessors: anat-flair}}
  - {{project: P3, modules: m}}
"""


def test_import_dax_writes_settings_and_says_what_it_left(tmp_path: Path) -> None:
    """Processor files, per-project variants as overrides, images, XNAT host and user, the
    queue limit and account carry over, with the Slurm executor; the password never does;
    every left-out thing is a line on stderr; the file written loads as aspider settings."""
    dax = tmp_path / "dax.yaml"
    dax.write_text(DAX_SETTINGS.format(lib=OURS))
    out = tmp_path / "aspider.yaml"
    result = runner.invoke(app, ["import-dax", str(dax), "--out", str(out)], env=_home(tmp_path))
    assert result.exit_code == 0, result.output
    written = out.read_text()
    assert "never-copied" not in written
    data = yaml.safe_load(written)
    assert data["processor_paths"] == [
        str(OURS / "anat_v1.0.0.yaml"),
        str(OURS / "long_v1.0.0.yaml"),
    ]
    assert data["projects"] == {
        "P1": {"processors": {"anat_v1": None, "long_v1": None}},
        "P2": {
            "processors": {
                "anat_v1": {"inputs.xnat.scans.scan_t1.types": "FLAIR", "walltime": "1-00"}
            }
        },
    }
    assert (data["xnat"], data["limits"], data["cluster"]) == (
        {"url": "https://xnat.example.org", "user": "spider"},
        {"max_queued": 40},
        {"executor": "slurm", "account": "lab", "container_dir": "/opt/images"},
    )
    assert "never-copied" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("not mapped: ")]
    for expected in ("attrs.xnat_pass", "attrs.queue_limit_pending", "resdir", "project P3"):
        assert any(line.startswith(f"not mapped: {expected}") for line in lines), expected
    settings = load_settings(out)
    assert isinstance(settings, AspiderSettings)
    assert json.dumps(settings.overrides_for("P2")) == json.dumps(
        {"anat_v1": {"inputs.xnat.scans.scan_t1.types": "FLAIR", "walltime": "1-00"}}
    )


def _home(home: Path) -> dict[str, str | None]:
    """The environment of an in-process import: a home of its own (its ~/.netrc), no XNAT_HOST."""
    return {"HOME": str(home), "XNAT_HOST": None}


# Three DAX settings files as sites write them (tests/aspider/dax_settings), each imported by
# `aspider import-dax` run as a process, then checked with the commands it prints, as printed.
# The sandbox XNAT stands for the site's: its URL replaces the files' `xnat_host`.
SITE_XNAT = "https://xnat.example.org"
DAX_FILES = Path(__file__).parent / "dax_settings"
PASSWORD = "s3cret-never-shown"


@pytest.fixture
def site() -> Iterator[str]:
    """The site's XNAT, over TCP: three projects of four sessions, a DAX account."""
    server = XnatServer(users={"daxspider": PASSWORD})
    for seed, project in enumerate(("PROJ1", "PROJ2", "PROJ3"), start=11):
        generate_project(server, project, sessions=4, assessors_per_session=0, seed=seed)
    with xnat_over_tcp(server) as url:
        yield url


@dataclass(frozen=True)
class _Imported:
    result: subprocess.CompletedProcess[str]
    settings: Path
    env: dict[str, str]

    @property
    def data(self) -> Any:
        return yaml.safe_load(self.settings.read_text())

    def check_commands(self) -> list[str]:
        """The commands the output ends with, as a person would copy them."""
        lines = self.result.stderr.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("check it"))
        return [line.strip() for line in lines[start + 1 :]]

    def run_checks(self) -> list[subprocess.CompletedProcess[str]]:
        home = Path(self.env["HOME"])
        return [run_aspider(shlex.split(c)[1:], self.env, home) for c in self.check_commands()]


def _import_site_file(name: str, home: Path, url: str, netrc: bool = True) -> _Imported:
    """`aspider import-dax` from the folder DAX runs in (its paths are relative to it)."""
    if netrc:
        (home / ".netrc").write_text(f"machine 127.0.0.1 login daxspider password {PASSWORD}\n")
        (home / ".netrc").chmod(0o600)
    dax = home / name
    dax.write_text((DAX_FILES / name).read_text().replace(SITE_XNAT, url))
    env = clean_env(home, XNAT_HOST=url)
    out = home / "aspider.yaml"
    result = run_aspider(["import-dax", str(dax), "--out", str(out)], env, DAX_FILES)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return _Imported(result, out, env)


def _dry_run_works(imported: _Imported, project: str) -> str:
    """The printed checks, run as printed: config show, then the dry run of `project`."""
    settings = shlex.quote(str(imported.settings))
    assert imported.check_commands() == [
        f"aspider config show --settings {settings}",
        f"aspider run {project} --dry-run --settings {settings}",
    ]
    shown, dry_run = imported.run_checks()
    assert shown.returncode == 0, shown.stderr
    assert dry_run.returncode == 0, dry_run.stderr
    assert "create" in dry_run.stdout
    for text in (imported.result.stdout, imported.result.stderr, shown.stdout, dry_run.stderr):
        assert PASSWORD not in text
    return dry_run.stdout


def test_a_minimal_dax_file_takes_xnat_from_xnat_host_and_netrc(site: str, tmp_path: Path) -> None:
    """No host or user in the file: XNAT_HOST and the ~/.netrc entry of its host name, as DAX
    reads them; the password stays in ~/.netrc, and the dry run printed works as printed."""
    imported = _import_site_file("minimal.yaml", tmp_path, site)
    assert imported.data == {
        "xnat": {"url": site, "user": "daxspider"},
        "cluster": {"executor": "slurm"},
        "limits": {"max_queued": 10},
        "processor_paths": [str(DAX_FILES / "processors" / "t1stats_v1.0.0.yaml")],
        "projects": {"PROJ1": {"processors": {"t1stats_v1": None}}},
    }
    said = imported.result.stderr.splitlines()
    netrc = tmp_path / ".netrc"
    assert f"carried: xnat.url = {site}, from $XNAT_HOST" in said
    assert f"carried: xnat.user = daxspider, from {netrc} (its entry for 127.0.0.1)" in said
    assert (
        f"note: password: aspider reads it from {netrc} (its entry for 127.0.0.1), as DAX did"
        in said
    )
    assert "t1stats_v1" in _dry_run_works(imported, "PROJ1")


def test_per_project_variants_come_over_as_overrides(site: str, tmp_path: Path) -> None:
    """Each project's handles become its processors, a variant's `arguments` its overrides; a
    project without them runs the files as written; the password in attrs is never copied, and
    the dry run works with the password where the output says to put it."""
    imported = _import_site_file("per_project.yaml", tmp_path, site, netrc=False)
    data = imported.data
    assert data["projects"] == {
        "PROJ1": {"processors": {"t1stats_v1": None, "flairqa_v2": None, "t1long_v1": None}},
        "PROJ2": {
            "processors": {
                "t1stats_v1": {"walltime": "0-04", "memory": "8G"},
                "flairqa_v2": {"inputs.xnat.scans.scan_flair.types": "FLAIR,T2w"},
            }
        },
    }
    assert (data["xnat"], data["cluster"], data["limits"]) == (
        {"url": site, "user": "daxspider"},
        {"executor": "slurm", "account": "h_lab", "container_dir": "/data/dax/containers"},
        {"max_queued": 200},
    )
    said = imported.result.stderr
    assert "not-a-real-password" not in said + imported.settings.read_text()
    assert "set ASPIDER_XNAT__PASSWORD" in said
    for left in ("attrs.queue_limit_pending", "attrs.xnat_pass", "resdir", "modulelib"):
        assert f"not mapped: {left}:" in said, left
    imported.env["ASPIDER_XNAT__PASSWORD"] = PASSWORD
    assert "t1long_v1" in _dry_run_works(imported, "PROJ1")
    plan = run_aspider(
        ["run", "PROJ2", "--dry-run", "--json", "--settings", str(imported.settings)],
        imported.env,
        tmp_path,
    )
    assert plan.returncode == 0, plan.stderr
    tasks = [a["task"] for s in json.loads(plan.stdout)["sessions"] for a in s["actions"]]
    assert {t["proctype"] for t in tasks} == {"t1stats_v1", "flairqa_v2"}
    assert {t["requirements"]["memory_mb"] for t in tasks if t["proctype"] == "t1stats_v1"} == {
        8192
    }
    flair = {t["session_label"] for t in tasks if t["proctype"] == "flairqa_v2"}
    assert flair == {f"PROJ2_S0000{n}_MR{m}" for n in (1, 2) for m in (1, 2)}  # S00001: T2w only


def test_a_job_template_and_admin_email_come_over_as_they_can(site: str, tmp_path: Path) -> None:
    """The site's template is cluster.job_template: DAX's placeholders are aspider's (same
    `${name}` syntax, filled alike), except ${xnat_host}, which the output names and the job
    script leaves to the shell; admin_email and smtp_host are where aspider mails its alerts
    and digest."""
    imported = _import_site_file("with_job_template.yaml", tmp_path, site)
    template = DAX_FILES / "slurm_job_template.txt"
    assert imported.data["cluster"] == {
        "executor": "slurm",
        "account": "h_lab",
        "container_dir": "/data/dax/containers",
        "job_template": str(template),
    }
    assert imported.data["notify"] == {
        "email": {"host": "smtp.example.org", "port": 25, "to": ["xnat-admin@example.org"]}
    }
    said = imported.result.stderr
    assert "notify.email: aspider mails its alerts" in said
    assert "ASPIDER_NOTIFY__EMAIL__PASSWORD" in said
    assert "not a DAX setting aspider knows" not in said
    assert "smtp_host" not in said.split("not mapped", 1)[-1]
    assert "cluster.job_template: same placeholders as DAX" in said
    assert "aspider does not fill ${xnat_host}" in said
    spec = JobSpec(
        name="job1", job_dir="/w/job1", command="true", walltime=timedelta(hours=2), memory_mb=4096
    )
    script = JobTemplate(template.read_text()).render(spec)
    for filled in ("#SBATCH --time=02:00:00", "#SBATCH --mem=4096", "/bin/sh -c"):
        assert filled in script
    assert "${job_cmds}" not in script
    assert "export XNAT_HOST=${xnat_host}" in script  # not filled: the shell's to expand
    assert "t1stats_v1" in _dry_run_works(imported, "PROJ3")


def test_an_smtp_host_with_its_port_is_split(tmp_path: Path) -> None:
    """`smtp_host: relay.lab:2525` (smtplib's form) is host and port, as aspider's settings
    want them; a host:port written by hand in aspider's settings is refused, naming both."""
    dax = tmp_path / "dax.yaml"
    extra = "admin_email: a@example.org\nsmtp_host: relay.lab:2525\n"
    dax.write_text(DAX_SETTINGS.format(lib=OURS) + extra)
    out = tmp_path / "aspider.yaml"
    result = runner.invoke(app, ["import-dax", str(dax), "--out", str(out)], env=_home(tmp_path))
    assert result.exit_code == 0, result.output
    email = load_settings(out).notify.email
    assert (email.host, email.port) == ("relay.lab", 2525)
    out.write_text("notify: {email: {host: 'relay.lab:2525', to: [a@example.org]}}\n")
    with pytest.raises(ConfigError, match=r"host: relay\.lab, port: 2525"):
        load_settings(out)


def test_admin_email_without_an_smtp_host_is_a_commented_block(tmp_path: Path) -> None:
    """No server to send through: the notify block is a comment to complete, the file loads."""
    dax = tmp_path / "dax.yaml"
    dax.write_text(DAX_SETTINGS.format(lib=OURS) + "admin_email: a@example.org, b@example.org\n")
    out = tmp_path / "aspider.yaml"
    result = runner.invoke(app, ["import-dax", str(dax), "--out", str(out)], env=_home(tmp_path))
    assert result.exit_code == 0, result.output
    written = out.read_text()
    assert "notify" not in yaml.safe_load(written)
    assert "#   email:\n#     host: SMTP.HOST\n#     to: [a@example.org, b@example.org]" in written
    assert "set notify.email.host and uncomment it" in result.stderr
    assert load_settings(out).notify.email.to == ()


def test_dax_s_own_job_body_is_not_made_the_job_template(tmp_path: Path) -> None:
    """A template that is DAX's whole job (curl downloads, $MAINCMD, $DSTDIR, as VUIIS's
    job_template_v3.txt) would find nothing to do under aspider: it is kept as a comment and
    the output says what to keep of it."""
    (tmp_path / "job_template_v3.txt").write_text(
        "#!/bin/bash\n#SBATCH --mem=${job_memory}\n${job_cmds}\n"
        'SESSID=`curl -s -n "$XNATHOST/data/JSESSION"`\n'
        'for IN in "${INLIST[@]}"; do echo $IN; done\neval $MAINCMD\nmkdir -p $DSTDIR\n'
    )
    dax = tmp_path / "dax.yaml"
    dax.write_text(
        f"processorlib: {DAX_FILES / 'processors'}\njobtemplate: {tmp_path}/job_template_v3.txt\n"
        "attrs: {xnat_host: https://xnat.example.org}\n"
        "yamlprocessors: [{name: t1, filepath: t1stats_v1.0.0.yaml}]\n"
        "projects: [{project: P, yamlprocessors: t1}]\n"
    )
    out = tmp_path / "aspider.yaml"
    result = runner.invoke(app, ["import-dax", str(dax), "-o", str(out)], env=_home(tmp_path))
    assert result.exit_code == 0, result.output
    assert "job_template" not in yaml.safe_load(out.read_text())["cluster"]
    assert "# cluster.job_template: not set from DAX's jobtemplate" in out.read_text()
    assert "it is DAX's own job: it uses $XNATHOST" in result.stderr
    assert "keep its site lines (#SBATCH, module load) and ${job_cmds}" in result.stderr


# Malformed input: exit 2, every problem as file:line with its fix, nothing written, and never
# a traceback, `aspider import-dax` run as a process.
V2_PROCESSOR = """\
---
moreauto: true
procversion: 2.0.0
procname: Multi_Atlas
inputs:
  default:
    spider_path: /data/spiders/Spider_Multi_Atlas_v2_0_0.py
    working_dir: /scratch
  xnat:
    scans:
      - scan1: {types: 'T1,MPRAGE', resources: [{resource: NIFTI, varname: t1}]}
command: python {spider_path} --t1 {t1}
attrs: {type: scan, scan_nb: scan1, memory: 8048, walltime: '24:00:00'}
"""
MALFORMED = {
    "a project as a name alone": (
        """\
attrs: {queue_limit: 10}
processorlib: {lib}
yamlprocessors:
  - {name: t1stats, filepath: t1stats_v1.0.0.yaml}
projects:
  - PROJ1
""",
        ["dax.yaml:6: projects[0]: 'PROJ1' is not a project entry: DAX reads `- project: PROJ1`"],
    ),
    "an aspider settings file": (
        """\
xnat: {url: https://xnat.example.org}
projects:
  PROJ1: {processors: [t1stats_v1]}
""",
        ["dax.yaml:1: this is an aspider settings file", "aspider config show --settings"],
    ),
    "a missing processor file": (
        """\
attrs: {}
processorlib: {lib}
yamlprocessors:
  - name: t1stats
    filepath: t1stats_v9.0.0.yaml
projects:
  - {project: PROJ1, yamlprocessors: t1stats}
""",
        [
            "dax.yaml:5: yamlprocessors[0].filepath: {lib}/t1stats_v9.0.0.yaml does not exist",
            "correct filepath (or processorlib), or take t1stats out of yamlprocessors",
        ],
    ),
    "a DAX v2 processor file": (
        """\
attrs: {}
yamlprocessors:
  - {name: multi, filepath: {v2}}
projects:
  - {project: PROJ1, yamlprocessors: multi}
""",
        ["dax.yaml:3: yamlprocessors[0]: multi: {v2} is not a processor aspider runs"],
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_dax_file_is_reported_by_file_and_line(case: str, tmp_path: Path) -> None:
    """Exit 2, the DAX file's line and the fix; a v2 processor in the words of `aspider
    processors --validate`; no traceback, and no settings written."""
    v2 = tmp_path / "Multi_Atlas_v2.0.0_processor.yaml"
    v2.write_text(V2_PROCESSOR)
    text, expected = MALFORMED[case]
    fill = {"{lib}": str(DAX_FILES / "processors"), "{v2}": str(v2)}
    for key, value in fill.items():
        text = text.replace(key, value)
        expected = [e.replace(key, value) for e in expected]
    (tmp_path / "dax.yaml").write_text(text)
    env = clean_env(tmp_path)
    result = run_aspider(["import-dax", "dax.yaml", "--out", "aspider.yaml"], env, tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert "Traceback" not in result.stderr
    for part in expected:
        assert part in result.stderr, result.stderr
    assert not (tmp_path / "aspider.yaml").exists()
    if case == "a DAX v2 processor file":
        validate = run_aspider(["processors", "--validate", str(v2)], env, tmp_path)
        assert validate.stderr.strip()
        assert validate.stderr.strip() in result.stderr


def test_a_missing_job_template_or_handle_is_an_error_with_a_guess(tmp_path: Path) -> None:
    """A job template that is not there, a project naming a handle that is not (the closest
    one offered), a queue limit that is not a number: each its own line, all at once."""
    dax = tmp_path / "dax.yaml"
    dax.write_text(
        f"processorlib: {DAX_FILES / 'processors'}\njobtemplate: nowhere.txt\n"
        "attrs: {queue_limit: lots}\n"
        "yamlprocessors: [{name: t1stats, filepath: t1stats_v1.0.0.yaml}]\n"
        "projects: [{project: P, yamlprocessors: t1stat}]\n"
    )
    result = runner.invoke(app, ["import-dax", str(dax)], env=_home(tmp_path))
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert [e.split(": ")[1:3] for e in errors] == [
        [f"{dax}:2", "jobtemplate"],
        [f"{dax}:3", "attrs.queue_limit"],
        [f"{dax}:5", "projects[0].yamlprocessors"],
    ]
    assert "did you mean t1stats?" in errors[-1]


# Values aimed at the edges: paths with `~user`, a NUL or a real processor, URLs that do not
# parse, numbers that are not, next to any text, number, list or mapping.
_PROCESSORS = str(DAX_FILES / "processors")
_EDGES = ["~nosuchuser/x", "a\x00b", "http://[::1", "https://h:port", "https://x.org", "²", "-1"]
_texts = st.text(max_size=8) | st.sampled_from(
    [*_EDGES, "t1", _PROCESSORS, "t1stats_v1.0.0.yaml", "flairqa_v2.0.0.yaml", "/"]
)
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | _texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
    max_leaves=8,
)
_arguments = st.dictionaries(
    st.sampled_from(["walltime", "memory", "inputs.xnat.scans.scan_t1.types", "vars.x", "x"]),
    _values,
    max_size=3,
)
_entries = st.fixed_dictionaries(
    {},
    optional={
        "name": _values,
        "filepath": _values,
        "arguments": _arguments | _values,
        "project": _values,
        "yamlprocessors": _values,
        "sgpprocessors": _values,
        "modules": _values,
    },
)
_attrs = st.dictionaries(
    st.sampled_from(["xnat_host", "xnat_user", "xnat_pass", "queue_limit", "job_rungroup", "cr"]),
    _values,
    max_size=4,
)
_documents = st.fixed_dictionaries(
    {"projects": st.lists(_entries | _values, max_size=3)},
    optional={
        "attrs": _attrs | _values,
        "yamlprocessors": st.lists(_entries | _values, max_size=2) | _values,
        "sgpprocessors": st.lists(_entries | _values, max_size=2) | _values,
        **dict.fromkeys(
            ["processorlib", "jobtemplate", "singularity_imagedir", "admin_email", "modules"],
            _values,
        ),
    },
)

# And documents that are nearly right, so that the settings written are checked too.
_nearly_right = st.fixed_dictionaries(
    {
        "processorlib": st.just(_PROCESSORS),
        "yamlprocessors": st.just([{"name": "t1", "filepath": "t1stats_v1.0.0.yaml"}]),
        "sgpprocessors": st.lists(
            st.fixed_dictionaries(
                {
                    "name": _texts,
                    "filepath": st.just("flairqa_v2.0.0.yaml"),
                    "arguments": _arguments,
                }
            ),
            max_size=1,
        ),
        "projects": st.lists(
            st.fixed_dictionaries({"project": _texts, "yamlprocessors": st.just("t1")}), max_size=2
        ),
    },
    optional={"attrs": _attrs, "singularity_imagedir": _values, "admin_email": _values},
)


@settings(max_examples=200, deadline=None)
@given(document=_documents | _nearly_right)
def test_any_document_is_imported_or_refused_by_file_and_line(
    document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Whatever the shapes and values: settings that load (exit 0), or exit 2 with every
    problem as file:line; never an exception."""
    folder = tmp_path_factory.mktemp("dax")
    path = folder / "dax.yaml"
    path.write_text(yaml.safe_dump(document))
    result = runner.invoke(app, ["import-dax", str(path)], env=_home(folder))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 0:
        assert isinstance(yaml.safe_load(result.stdout), dict)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert all(re.match(r"error: \S+:\d+: ", line) for line in errors), errors
