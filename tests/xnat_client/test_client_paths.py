"""URL building: hostile labels are quoted or refused before any request."""

from __future__ import annotations

from urllib.parse import unquote

import httpx
import pytest

from xnat_client import AssessorFields, InvalidName, ResourceRef

from ._client_fakes import FakeXnat, client_for

pytestmark = pytest.mark.anyio

HOSTILE = ["a b", "ünïcødé-é", "x+y", "tag#1", "100%", "what?", "semi;colon", "$(rm -rf)", "`q`"]


@pytest.mark.parametrize("label", HOSTILE)
async def test_hostile_label_reaches_xnat_as_one_exact_segment(label: str) -> None:
    """A label with special characters arrives as a single path segment that decodes to itself."""
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, text="XNAT_E00009")

    async with client_for(FakeXnat(respond)) as xnat:
        new_id = await xnat.put_assessor("P1", "S1", "E1", label, AssessorFields(note=label))
    assert new_id == "XNAT_E00009"
    raw = seen[0].url.raw_path.decode("ascii")
    path = raw.partition("?")[0]
    segments = path.split("/")
    assert segments[:-1] == [
        "",
        "data",
        "projects",
        "P1",
        "subjects",
        "S1",
        "experiments",
        "E1",
        "assessors",
    ]
    assert unquote(segments[-1]) == label
    assert seen[0].url.params["proc:genProcData/note"] == label


@pytest.mark.parametrize("label", ["a/b", "..", ".", "", "tab\there", "../etc"])
async def test_unaddressable_label_is_refused_before_any_request(label: str) -> None:
    """A slash, a relative segment, an empty name or a control character raise InvalidName."""
    async with client_for(FakeXnat()) as xnat:
        with pytest.raises(InvalidName):
            await xnat.put_assessor("P1", "S1", "E1", label, AssessorFields())
        with pytest.raises(InvalidName):
            await xnat.session_snapshot("P1", label)
        assert xnat.requests_sent == 0
    assert issubclass(InvalidName, ValueError)


@pytest.mark.parametrize("path", ["../x", "a/../b", "/abs", "a//b", "", "a/./b"])
def test_file_paths_with_relative_parts_are_refused(path: str) -> None:
    """File paths must be relative and free of `.`/`..`/empty parts."""
    ref = ResourceRef.session("E1", "OUT")
    with pytest.raises(InvalidName):
        ref.file(path)


def test_resource_ref_builds_the_three_owner_paths() -> None:
    """Scan, assessor-output and session resources each map to XNAT's URL shape."""
    assert ResourceRef.scan("E1", "1", "DICOM").path == (
        "/data/experiments/E1/scans/1/resources/DICOM"
    )
    assert ResourceRef.assessor_output("E1", "A1", "PDF").path == (
        "/data/experiments/E1/assessors/A1/out/resources/PDF"
    )
    assert ResourceRef.session("E1", "NOTES").file("sub dir/a+b#.txt") == (
        "/data/experiments/E1/resources/NOTES/files/sub%20dir/a%2Bb%23.txt"
    )


def test_resource_ref_validates_when_made() -> None:
    """A bad part fails when the ref is built, not when it is used."""
    with pytest.raises(InvalidName):
        ResourceRef.scan("E1", "1/2", "DICOM")
    with pytest.raises(InvalidName):
        ResourceRef.session("..", "OUT")


@pytest.mark.parametrize("project", ["P 1", "P/1", "P,Q", "P*", ""])
async def test_project_ids_must_be_xnat_ids(project: str) -> None:
    """A project ID outside [A-Za-z0-9_-] (XNAT's ID rule) is refused before any request."""
    async with client_for(FakeXnat()) as xnat:
        with pytest.raises(InvalidName):
            await xnat.project_snapshot(project)
        assert xnat.requests_sent == 0
