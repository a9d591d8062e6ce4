"""JobSpec and name validation: hostile values are refused before anything is sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from pbs import InvalidValue, JobSpec, check_job_id, check_job_name, check_path

HOSTILE_NAMES = [
    "a b",
    "x;touch /tmp/pwned",
    "$(id)",
    "`id`",
    "../x",
    "x/../y",
    "résumé",
    "名前",
    "-N",
    ".hidden",
    "a\nb",
    "a'b",
    'a"b',
    "a|b",
    "a&b",
    "a>b",
    "",
    "a" * 237,
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_job_names_are_rejected(name: str) -> None:
    """Names that could break a #PBS line, a shell or a path raise InvalidValue."""
    with pytest.raises(InvalidValue):
        check_job_name(name)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_jobspec_refuses_hostile_names(name: str) -> None:
    """A JobSpec cannot be built with a hostile name (pydantic reports the reason)."""
    with pytest.raises(ValidationError, match="job name"):
        JobSpec(name=name, job_dir="/w/x", command="true")


def test_dax_style_labels_are_accepted() -> None:
    """An assessor label of DAX's v3 form is a valid job name, unchanged."""
    label = "PROJ-x-SUBJ_01-x-SESS.1-x-fs7-x-0a1b2c3d"
    assert check_job_name(label) == label
    assert check_job_name("a" * 236) == "a" * 236


@given(st.text(min_size=1, max_size=40))
def test_accepted_names_contain_only_safe_characters(name: str) -> None:
    """Whatever is accepted is made of letters, digits and '_.+-' and starts alphanumeric."""
    try:
        check_job_name(name)
    except InvalidValue:
        return
    assert name[0].isascii()
    assert name[0].isalnum()
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-")


@pytest.mark.parametrize(
    "path", ["relative/dir", "/a b", "/a/../b", "/a;b", "/$(id)", "/a`id`", "/é"]
)
def test_unsafe_paths_are_rejected(path: str) -> None:
    """Job directories and work roots must be absolute, plain and free of '..'."""
    with pytest.raises(InvalidValue):
        check_path(path)


@pytest.mark.parametrize("job_id", ["1;id", "$(id)", "abc", "1 2", "", "-1"])
def test_unsafe_job_ids_are_rejected(job_id: str) -> None:
    """Only ids of the form qsub prints reach qstat and qdel."""
    with pytest.raises(InvalidValue):
        check_job_id(job_id)


@pytest.mark.parametrize("job_id", ["3", "1234.pbs01", "1234[].pbs01", "77.torque01.example.org"])
def test_real_job_ids_are_accepted(job_id: str) -> None:
    """Ids from Torque, PBS Pro and the Slurm wrappers pass unchanged."""
    assert check_job_id(job_id) == job_id


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("environment", {"JOBDIR": "/x"}),
        ("environment", {"BAD-KEY": "x"}),
        ("environment", {"K": "a\x00b"}),
        ("queue", "batch;id"),
        ("account", "a b"),
        ("mail_events", "xyz"),
        ("mail_users", ("a@b;id",)),
        ("extra_directives", ("-W x\n#PBS -q evil",)),
        ("walltime", timedelta(0)),
        ("cpus", 0),
        ("memory_mb", -1),
    ],
)
def test_jobspec_refuses_unsafe_fields(field: str, value: object) -> None:
    """Every field that reaches a #PBS line or the wrapper is validated."""
    with pytest.raises(ValidationError):
        JobSpec.model_validate({"name": "ok", "job_dir": "/w/ok", "command": "true", field: value})


def test_walltime_text_has_unbounded_hours() -> None:
    """A 50-hour walltime is written 50:00:00, as PBS expects."""
    spec = JobSpec(name="ok", job_dir="/w/ok", command="true", walltime=timedelta(hours=50))
    assert spec.walltime_text == "50:00:00"


def test_walltime_accepts_the_pbs_form() -> None:
    """HH:MM:SS strings from configuration parse into the same walltime."""
    spec = JobSpec.model_validate(
        {"name": "ok", "job_dir": "/w/ok", "command": "true", "walltime": "01:02:03"}
    )
    assert spec.walltime == timedelta(hours=1, minutes=2, seconds=3)
