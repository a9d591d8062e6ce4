"""
What a new user meets first, with `aspider` run as a process in a terminal of 80 columns:
`--version`, `-h`, help in the user's words, tables that fit, `run -s` that keeps to the
session, and a `rerun` that shows what it will send back and asks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from aspider import __version__
from tests.aspider.conftest import EXAMPLES
from tests.aspider.processes import (
    DEMO_PROCESSORS,
    clean_env,
    plain,
    run_aspider,
    run_in_terminal,
    xnat_over_tcp,
)
from xnat_client.sandbox import XnatServer, generate_project


@pytest.fixture
def server() -> XnatServer:
    """Four sessions with assessors in every status there is (the synthetic generator's)."""
    srv = XnatServer()
    generate_project(srv, "P1", sessions=4, seed=2)
    return srv


@pytest.fixture
def env(server: XnatServer, tmp_path: Path) -> Iterator[dict[str, str]]:
    with xnat_over_tcp(server) as url:
        yield clean_env(
            tmp_path,
            ASPIDER_XNAT__URL=url,
            ASPIDER_XNAT__USER="admin",
            ASPIDER_XNAT__PASSWORD="admin",
            ASPIDER_PROCESSOR_PATHS=json.dumps([EXAMPLES]),
            ASPIDER_CLUSTER__WORK_ROOT=str(tmp_path / "work"),
        )


def _fits(text: str) -> None:
    too_wide = [line for line in text.splitlines() if len(line) > 80]
    assert not too_wide, too_wide
    assert "…" not in text, text  # nothing cut short


def test_version_and_short_help(tmp_path: Path) -> None:
    """`--version` prints the version; `-h` is help, for the command and each subcommand."""
    env = clean_env(tmp_path)
    version = run_aspider(["--version"], env, tmp_path)
    assert (version.returncode, version.stdout) == (0, f"aspider {__version__}\n")
    commands = [
        "run",
        "status",
        "rerun",
        "init",
        "sandbox",
        "processors",
        "serve",
        "import-dax",
        "trial",
    ]
    for args in (["-h"], *([c, "-h"] for c in commands)):
        shown = run_aspider(args, env, tmp_path)
        assert shown.returncode == 0, (args, shown.stderr)
        assert "Usage: aspider" in shown.stdout
        _fits(shown.stdout)
        assert "<bool>" not in shown.stdout, args  # a flag takes no value
    sandbox = run_aspider(["sandbox", "-h"], env, tmp_path).stdout
    assert "--assessors-per-session" in sandbox  # an option's name is never cut


def test_the_processor_list_fits_80_columns(env: dict[str, str], tmp_path: Path) -> None:
    """Every proctype whole and its inputs by name; what the inputs match with --wide."""
    result = run_aspider(["processors"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    _fits(result.stdout)
    firsts = {line.split()[0] for line in result.stdout.splitlines()[3:] if line.strip()}
    assert {"rsfmri_preproc_v1", "tfmri_preproc_v1", "freesurfer_v7"} <= firsts
    assert "assr_fs" in result.stdout
    assert "MPRAGE" not in result.stdout
    wide = run_aspider(["processors", "--wide"], env, tmp_path)
    assert "scan_t1: scan T1w,MPRAGE*,*T1*" in wide.stdout
    assert "assr_fs: assessor freesurfer_v7" in wide.stdout


def test_help_speaks_of_what_commands_do(tmp_path: Path) -> None:
    """No internal words: `run -h` says what a sweep does, the top help where to begin."""
    env = clean_env(tmp_path)
    top = run_aspider(["-h"], env, tmp_path).stdout
    assert "aspider demo" in top
    assert "aspider init" in top
    run_help = run_aspider(["run", "-h"], env, tmp_path).stdout
    assert "loops" not in run_help
    assert "submits the jobs" in " ".join(run_help.split())


def test_the_dry_run_table_fits_80_columns_and_tells_processors_apart(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Processor, session, action and reason, never cut; the label only with --wide."""
    result = run_aspider(["run", "P1", "--dry-run"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    _fits(result.stdout)
    header = result.stdout.splitlines()[1].split()
    assert header == ["processor", "session", "action", "status", "/", "reason"]
    shown = {line.split()[0] for line in result.stdout.splitlines()[3:] if line.strip()}
    assert {"freesurfer_v7", "dtiqa_v1", "fmriqa_v1"} <= shown
    assert "-x-" not in result.stdout
    wide = run_aspider(["run", "P1", "--dry-run", "--wide"], env, tmp_path)
    assert re.search(r"P1-x-P1_S\d+-x-P1_S\d+_MR\d-x-freesurfer_v7-x-[0-9a-f]{8}", wide.stdout)


def test_the_status_table_fits_80_columns(env: dict[str, str], tmp_path: Path) -> None:
    """Statuses grouped as a person acts on them; every status its own column with --wide."""
    result = run_aspider(["status", "P1", "--xnat-only"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    _fits(result.stdout)
    for column in ("processor", "done", "running", "to run", "no inputs", "failed"):
        assert column in result.stdout
    assert "Needs attention" in result.stdout
    wide = run_aspider(["status", "P1", "--xnat-only", "--wide"], env, tmp_path).stdout
    header = next(line for line in wide.splitlines() if "processor" in line)
    assert {"JOB_RUNNING", "JOB_FAILED", "NEED_INPUTS", "COMPLETE"} <= {
        c.strip() for c in header.split("┃")
    }


def test_the_summary_fits_80_columns(server: XnatServer, tmp_path: Path) -> None:
    """After a real run the summary's headers are whole words, in 80 columns."""
    fresh = XnatServer()
    generate_project(fresh, "P2", sessions=2, assessors_per_session=0, seed=3)
    with xnat_over_tcp(fresh) as url:
        env = clean_env(
            tmp_path,
            ASPIDER_XNAT__URL=url,
            ASPIDER_XNAT__USER="admin",
            ASPIDER_XNAT__PASSWORD="admin",
            ASPIDER_PROCESSOR_PATHS=json.dumps([str(DEMO_PROCESSORS)]),
            ASPIDER_CLUSTER__WORK_ROOT=str(tmp_path / "work"),
        )
        result = run_aspider(["run", "P2", "--wait", "--interval", "0.2"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    _fits(result.stdout)
    header = next(line for line in result.stdout.splitlines() if "processor" in line)
    assert header.split() == ["processor", "created", "submitted", "completed", "failed"]


def test_a_dry_run_for_one_session_lists_only_that_session(
    server: XnatServer, env: dict[str, str], tmp_path: Path
) -> None:
    """`run -s S --dry-run --json` plans S alone, as the real run would."""
    session = min(s.label for s in server.store.sessions_of("P1"))
    result = run_aspider(["run", "P1", "-s", session, "--dry-run", "--json"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    planned = json.loads(result.stdout)["sessions"]
    assert planned
    assert {s["session_label"] for s in planned} == {session}


def _statuses(server: XnatServer) -> dict[str, str]:
    return {a.label: a.fields.get("procstatus", "") for a in server.store.assessors_of("P1")}


def test_rerun_without_yes_shows_what_it_would_do_and_changes_nothing(
    server: XnatServer, env: dict[str, str], tmp_path: Path
) -> None:
    """No terminal and no --yes: exit 2 naming --yes; --dry-run lists; nothing changes."""
    (tmp_path / "procs").mkdir()
    (tmp_path / "procs" / "fs7_v1.0.0.yaml").write_text(
        (Path(EXAMPLES) / "freesurfer_v7.2.0.yaml").read_text()
    )
    env = {**env, "ASPIDER_PROCESSOR_PATHS": json.dumps([str(tmp_path / "procs")])}
    before = _statuses(server)
    refused = run_aspider(["rerun", "P1"], env, tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert "pass --yes" in refused.stderr
    preview = run_aspider(["rerun", "P1", "--dry-run"], env, tmp_path)
    assert preview.returncode == 0, preview.stderr
    assert "would be sent back; nothing changed" in preview.stdout
    _fits(preview.stdout)
    assert _statuses(server) == before


def test_rerun_at_a_terminal_asks_and_sends_back_on_yes(
    server: XnatServer, env: dict[str, str], tmp_path: Path
) -> None:
    """At a terminal it lists the tasks and asks; `y` sends back exactly those listed."""
    (tmp_path / "procs").mkdir()
    (tmp_path / "procs" / "fs7_v1.0.0.yaml").write_text(
        (Path(EXAMPLES) / "freesurfer_v7.2.0.yaml").read_text()
    )
    env = {**env, "ASPIDER_PROCESSOR_PATHS": json.dumps([str(tmp_path / "procs")])}
    before = _statuses(server)
    code, drawn = run_in_terminal(["rerun", "P1", "--status", "JOB_FAILED"], env, tmp_path, b"y\n")
    assert code == 0, drawn
    text = plain(drawn)
    assert "Send these" in text
    failed = {label for label, status in before.items() if status == "JOB_FAILED"}
    assert failed  # the synthetic project has some
    after = _statuses(server)
    fs7 = {a.label for a in server.store.assessors_of("P1") if a.fields["proctype"] == "fs7_v1"}
    assert failed & fs7
    assert {label for label in failed if after[label] == "NEED_TO_RUN"} == failed & fs7
    assert {k: v for k, v in after.items() if k not in failed} == {
        k: v for k, v in before.items() if k not in failed
    }


def test_explain_speaks_of_what_will_happen(
    server: XnatServer, env: dict[str, str], tmp_path: Path
) -> None:
    """Inputs by their names and files; what the next sweep does, in words; no internal kinds."""
    session = min(s.label for s in server.store.sessions_of("P1"))
    result = run_aspider(["explain", "P1", session, "-p", "freesurfer_v7"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "freesurfer_v7 (7.2.0, session level): work to do at the next sweep" in text
    assert "input scan_t1: scan " in text
    assert "files *.nii.gz of resource NIFTI (1 found), staged as T1.nii.gz" in text
    assert "- will be created in XNAT as NEED_TO_RUN: its inputs are all there" in text
    assert "- will be submitted: its inputs are staged and the job queued" in text
    for internal in ("set_status", "next:", "[None]", "->", "None"):
        assert internal not in text, internal
    _fits(text)
