"""Listing rows -> models: strings, nulls, joins, escaped JSON, missing columns."""

from __future__ import annotations

from typing import Any

import pytest

from xnat_client import _rows

SCAN = "xnat:imagescandata/"
FILE = "xnat:imagescandata/file/"
PROC = "proc:genprocdata/"


def session_row(
    sid: str = "E1", scan: str = "", resource: str = "", **extra: str
) -> dict[str, Any]:
    row = {
        "ID": sid,
        "label": f"{sid}-label",
        "project": "P1",
        "subject_ID": "S1",
        "subject_label": "subj",
        "date": "2024-01-01",
        "xsiType": "xnat:mrSessionData",
        "last_modified": "2024-01-02 10:11:13.0",
        f"{SCAN}id": scan,
        f"{SCAN}type": "T1" if scan else "",
        f"{SCAN}series_description": "",
        f"{SCAN}quality": "usable" if scan else "",
        f"{SCAN}note": "",
        f"{SCAN}frames": "176" if scan else "",
        f"{FILE}label": resource,
        f"{FILE}format": "NIFTI" if resource else "",
        f"{FILE}file_count": "2" if resource else "",
        f"{FILE}file_size": "1024" if resource else "",
        f"{FILE}xnat_abstractresource_id": "101" if resource else "",
        "URI": f"/data/experiments/{sid}",
    }
    row.update(extra)
    return row


def assessor_row(aid: str, session: str = "E1", out: str = "", **extra: str) -> dict[str, Any]:
    row = {
        "ID": aid,
        "label": f"P1-x-S1-x-{session}-x-demo_v1-x-{aid}",
        "project": "P1",
        "session_ID": session,
        "session_label": f"{session}-label",
        "last_modified": "",
        f"{PROC}proctype": "demo_v1",
        f"{PROC}procstatus": "COMPLETE",
        f"{PROC}validation/status": "Needs QA",
        f"{PROC}inputs": "",
        f"{PROC}out/file/label": out,
    }
    row.update(extra)
    return row


def test_join_rows_fold_into_scans_and_resources() -> None:
    """session x scan x resource rows become one session, two scans, deduplicated resources."""
    rows = [
        session_row(scan="1", resource="DICOM"),
        session_row(scan="1", resource="NIFTI"),
        session_row(scan="1", resource="NIFTI"),
        session_row(scan="2", resource="DICOM"),
    ]
    [session] = _rows.sessions(rows, [])
    assert [s.id for s in session.scans] == ["1", "2"]
    assert [r.label for r in session.scans[0].resources] == ["DICOM", "NIFTI"]
    scan = session.scan("1")
    assert scan is not None
    assert (scan.frames, scan.quality) == (176, "usable")
    nifti = scan.resource("NIFTI")
    assert nifti is not None
    assert (nifti.id, nifti.file_count, nifti.file_size) == ("101", 2, 1024)


def test_session_without_scans_keeps_its_left_join_row() -> None:
    """A session whose row has empty scan columns has no scans, but still exists."""
    [session] = _rows.sessions([session_row("E9")], [])
    assert (session.id, session.scans, session.subject_id) == ("E9", (), "S1")


def test_empty_strings_become_none_or_empty() -> None:
    """ "" is null: numbers become None, strings stay ""."""
    row = session_row(scan="3", resource="R")
    row[f"{SCAN}frames"] = ""
    row[f"{FILE}file_size"] = "not-a-number"
    row[f"{FILE}file_count"] = "12.0"
    [session] = _rows.sessions([row], [])
    scan = session.scans[0]
    assert scan.frames is None
    assert scan.note == ""
    assert (scan.resources[0].file_size, scan.resources[0].file_count) == (None, 12)


def test_missing_columns_are_tolerated() -> None:
    """Rows without some requested columns (an older server) still parse, with defaults."""
    [session] = _rows.sessions([{"ID": "E1", "label": "L", f"{SCAN}id": "1"}], [])
    assert (session.label, session.date, session.xsi_type) == ("L", "", "")
    assert session.scans[0].resources == ()
    [assessor] = _rows.assessors([{"ID": "A1"}])
    assert (assessor.procstatus, assessor.inputs, assessor.resources) == ("", None, ())


def test_escaped_inputs_are_unescaped_and_parsed() -> None:
    """XML-escaped JSON in `inputs` (as XNAT stores it) is unescaped once and parsed."""
    raw = "{&quot;t1&quot;: &quot;/data/experiments/E1/scans/1&quot;, &quot;n&quot;: 2}"
    note = "failed: &lt;missing T1&gt; &amp; more"
    [assessor] = _rows.assessors(
        [assessor_row("A1", **{f"{PROC}inputs": raw, f"{PROC}note": note})]
    )
    assert assessor.inputs == {"t1": "/data/experiments/E1/scans/1", "n": 2}
    assert assessor.inputs_raw == '{"t1": "/data/experiments/E1/scans/1", "n": 2}'
    assert assessor.note == "failed: <missing T1> & more"


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", "   ", "&quot;just a string&quot;"])
def test_inputs_that_are_not_an_object_parse_to_none(raw: str) -> None:
    """Only a JSON object counts as inputs; anything else keeps just the raw text."""
    [assessor] = _rows.assessors([assessor_row("A1", **{f"{PROC}inputs": raw})])
    assert assessor.inputs is None


def test_assessor_output_join_is_collected_and_attached() -> None:
    """assessor x out-resource rows give one assessor with its labels, under its session."""
    sessions = [session_row("E1", scan="1"), session_row("E2")]
    assessors = [
        assessor_row("A1", out="PDF"),
        assessor_row("A1", out="STATS"),
        assessor_row("A1", out="PDF"),
        assessor_row("A2", session="E2"),
        assessor_row("A3", session="ELSEWHERE"),
    ]
    e1, e2 = _rows.sessions(sessions, assessors)
    assert [(a.id, a.resources) for a in e1.assessors] == [("A1", ("PDF", "STATS"))]
    assert [a.id for a in e2.assessors] == ["A2"]
    assert e1.assessors[0].qcstatus == "Needs QA"


def test_rows_without_id_are_skipped() -> None:
    """A row with an empty ID (a broken join) is ignored rather than invented."""
    assert _rows.sessions([session_row(""), session_row("E1")], [])[0].id == "E1"
    assert _rows.subjects([{"ID": "", "label": "x"}, {"ID": "S1", "label": "a"}])[0].id == "S1"


def test_file_names_come_from_the_uri() -> None:
    """A file's name is its unquoted path after /files/ in the URI (folders kept)."""
    rows = [
        {
            "Name": "b c.nii",
            "Size": "10",
            "URI": "/data/experiments/E1/resources/7/files/sub/b%20c.nii",
            "collection": "OUT",
        },
        {"Name": "x", "Size": "", "URI": "", "collection": "OUT"},
    ]
    first, second = _rows.files(rows)
    assert (first.name, first.size, first.resource) == ("sub/b c.nii", 10, "OUT")
    assert (second.name, second.size) == ("x", None)


@pytest.mark.parametrize("payload", [{}, {"ResultSet": {}}, {"ResultSet": {"Result": {}}}, []])
def test_result_rows_rejects_other_shapes(payload: Any) -> None:
    """Anything that is not `ResultSet.Result` as a list of rows is a ValueError."""
    with pytest.raises(ValueError, match="Result"):
        _rows.result_rows(payload)
