"""job_name: every label gets a job name every scheduler takes, the same one every time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbs import JOB_NAME_LIMIT, InvalidValue, check_job_name, job_name

DAX_LABEL = "PROJ-x-SUBJ1-x-SESS1-x-fs7-x-0a1b2c3d"


def test_a_valid_label_is_its_own_name() -> None:
    """Labels that fit (every DAX-form label of ordinary length) are used as they are."""
    assert job_name(DAX_LABEL) == DAX_LABEL


def test_a_long_label_gets_a_stable_short_form() -> None:
    """A 300-character label: a name of the limit's length, its start kept, a hash at the end."""
    label = "PROJ-x-" + "S" * 280 + "-x-fs7-x-0a1b2c3d"
    name = job_name(label)
    assert len(name) == JOB_NAME_LIMIT
    assert name.startswith("PROJ-x-SSS")
    assert name == job_name(label)
    assert name != job_name(label + "2")


def test_labels_differing_only_past_the_limit_get_different_names() -> None:
    """Truncation alone would merge them; the hash keeps them apart."""
    stem = "P" * 400
    assert job_name(stem + "a") != job_name(stem + "b")


def test_unsafe_characters_are_replaced_and_hashed() -> None:
    """A `/`, space or non-ASCII character never reaches the scheduler; two such labels differ."""
    first, second = job_name("PROJ/x sess é"), job_name("PROJ x/sess é")
    assert first.startswith("PROJ_x_sess__-")
    assert first != second


def test_a_smaller_limit_for_older_servers() -> None:
    """A site whose server takes 15 characters gets names of 15 characters."""
    assert len(job_name(DAX_LABEL, limit=15)) == 15


def test_nonsense_is_refused() -> None:
    """An empty label, or a limit that leaves no room, is an error, not a strange name."""
    with pytest.raises(InvalidValue):
        job_name("")
    with pytest.raises(ValueError, match="limit"):
        job_name(DAX_LABEL, limit=8)


@given(st.text(min_size=1, max_size=400), st.integers(min_value=12, max_value=300))
def test_every_label_yields_a_valid_name_within_the_limit(label: str, limit: int) -> None:
    """Whatever the label, the name is valid, within the limit, and the same every time."""
    name = job_name(label, limit=limit)
    assert check_job_name(name) == name
    assert len(name) <= limit
    assert job_name(label, limit=limit) == name
