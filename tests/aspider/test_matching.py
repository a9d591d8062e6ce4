"""Matching: candidates per input combination, keep_multis, filters, and precise reasons."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from aspider.plan import Scope, iter_scopes, match_scope
from tests.aspider.procs import downstream_processor, t1_processor
from tests.aspider.snapshots import assessor, scan, scan_path, session, snapshot


def only_scope(sess: object) -> Scope:
    return next(iter_scopes(snapshot(sess), "session"))  # type: ignore[arg-type]


def test_one_ready_candidate_resolves_scan_resource_and_fdest() -> None:
    """A T1 with a NIFTI resource resolves to (scan, resource, fmatch, fdest)."""
    result = match_scope(t1_processor(), only_scope(session(scans=(scan("301", "T1w"),))))
    (cand,) = result.candidates
    assert cand.ready
    (inp,) = cand.inputs
    assert (inp.name, inp.scan_id, inp.path) == ("scan_t1", "301", scan_path("301"))
    (res,) = inp.resources
    assert (res.resource, res.fmatch, res.fdest) == ("NIFTI", "*.nii.gz", "t1.nii.gz")
    assert res.uri == "/data/experiments/E1/scans/301/resources/NIFTI"
    assert cand.inputs_map() == {"scan_t1": scan_path("301")}


def test_no_matching_scan_means_not_applicable_with_reason() -> None:
    """No scan of the type: nothing to create, and the reason lists the types."""
    result = match_scope(t1_processor(), only_scope(session(scans=(scan("1", "FLAIR"),))))
    assert result.candidates == ()
    assert result.not_applicable is not None
    assert result.not_applicable.reasons == ("scan_t1: no scan with type T1w or MPRAGE*",)


def test_missing_resource_blocks_with_reason() -> None:
    """A matching scan without the NIFTI resource is a blocked candidate."""
    sess = session(scans=(scan("301", "T1w", resources={"DICOM": 2}),))
    (cand,) = match_scope(t1_processor(), only_scope(sess)).candidates
    assert cand.reasons == ("scan 301: no NIFTI resource",)


def test_empty_resource_blocks_with_reason() -> None:
    """A NIFTI resource with zero files blocks."""
    sess = session(scans=(scan("301", "T1w", resources={"NIFTI": 0}),))
    (cand,) = match_scope(t1_processor(), only_scope(sess)).candidates
    assert cand.reasons == ("scan 301: NIFTI resource is empty",)


def test_unusable_scan_blocks_when_qc_is_needed() -> None:
    """needs_qc: an unusable scan blocks with its quality as the reason."""
    sess = session(scans=(scan("301", "T1w", quality="unusable"),))
    (cand,) = match_scope(t1_processor(needs_qc=True), only_scope(sess)).candidates
    assert cand.reasons == ("scan 301: quality is unusable",)


def test_skip_unusable_drops_the_scan_and_says_so() -> None:
    """skip_unusable: the only T1 is unusable, so the processor does not apply, with why."""
    sess = session(scans=(scan("301", "T1w", quality="unusable"),))
    result = match_scope(t1_processor(skip_unusable=True), only_scope(sess))
    assert result.not_applicable is not None
    assert result.not_applicable.reasons == (
        "scan_t1: no scan with type T1w or MPRAGE* (scan 301: quality is unusable)",
    )


def test_upstream_running_blocks_downstream() -> None:
    """An upstream assessor still running blocks with its proctype and status."""
    fs = assessor("FS1", "fs_v7", {"scan_t1": scan_path("301")}, procstatus="JOB_RUNNING")
    sess = session(scans=(scan("301", "T1w"),), assessors=(fs,))
    (cand,) = match_scope(downstream_processor(), only_scope(sess)).candidates
    assert cand.reasons == ("assr_fs: fs_v7 is JOB_RUNNING",)


def test_upstream_failed_qc_blocks_downstream() -> None:
    """A COMPLETE upstream whose QC failed blocks a needs_qc input."""
    fs = assessor(
        "FS1", "fs_v7", {"scan_t1": scan_path("301")}, qcstatus="Failed", resources=("STATS",)
    )
    sess = session(scans=(scan("301", "T1w"),), assessors=(fs,))
    (cand,) = match_scope(downstream_processor(), only_scope(sess)).candidates
    assert cand.reasons == ("assr_fs: QC Failed",)


def test_upstream_passed_resolves_assessor_resource() -> None:
    """A COMPLETE, QC-passed upstream resolves to its output resource."""
    fs = assessor("FS1", "fs_v7", {"scan_t1": scan_path("301")}, resources=("STATS",))
    sess = session(scans=(scan("301", "T1w"),), assessors=(fs,))
    (cand,) = match_scope(downstream_processor(), only_scope(sess)).candidates
    assert cand.ready
    assr = next(i for i in cand.inputs if i.kind == "assessor")
    assert assr.resources[0].uri == "/data/experiments/E1/assessors/A_FS1/out/resources/STATS"


def test_match_filter_keeps_only_the_same_t1() -> None:
    """With two T1s and one FS run (on 301), only the (301, FS) combination survives."""
    fs = assessor("FS1", "fs_v7", {"scan_t1": scan_path("301")}, resources=("STATS",))
    sess = session(scans=(scan("301", "T1w"), scan("302", "T1w")), assessors=(fs,))
    result = match_scope(downstream_processor(), only_scope(sess))
    assert [c.inputs_map()["scan_t1"] for c in result.candidates] == [scan_path("301")]


def test_same_inputs_give_the_same_label() -> None:
    """Matching twice (fresh objects) gives the same label; another scan gives another."""
    make = lambda sid: only_scope(session(scans=(scan(sid, "T1w"),)))  # noqa: E731
    first = match_scope(t1_processor(), make("301")).candidates[0].label
    again = match_scope(t1_processor(), make("301")).candidates[0].label
    other = match_scope(t1_processor(), make("302")).candidates[0].label
    assert first == again != other
    assert first.startswith("P-x-SUBJ1-x-SESS1-x-fs_v7-x-")
    assert len(first.rsplit("-x-")[-1]) == 8


def test_scan_level_makes_one_task_per_scan() -> None:
    """A scan-level processor gets one candidate per matching scan, each naming its scan."""
    sess = session(scans=(scan("1", "T1w"), scan("2", "MPRAGE_2"), scan("3", "FLAIR")))
    result = match_scope(t1_processor(level="scan"), only_scope(sess))
    assert [c.scan_id for c in result.candidates] == ["1", "2"]


scan_ids = st.lists(
    st.text(alphabet="0123456789ab", min_size=1, max_size=4), min_size=1, max_size=6, unique=True
)


@given(ids=scan_ids, keep=st.sampled_from(["all", "first", "last", "1", "2", "3"]))
def test_keep_multis_rule(ids: list[str], keep: str) -> None:
    """keep_multis picks by position in lower-cased scan-ID order; all keeps every scan."""
    sess = session(scans=tuple(scan(i, "T1w") for i in ids))
    result = match_scope(t1_processor(keep_multis=keep), only_scope(sess))
    got = [c.inputs[0].scan_id for c in result.candidates]
    ordered = sorted(ids, key=str.lower)
    if keep == "all":
        assert sorted(got) == sorted(ids)
        return
    position = {"first": 1, "last": len(ids)}.get(keep) or int(keep)
    expected = [ordered[position - 1]] if position <= len(ids) else []
    assert got == expected
    if not expected:
        assert result.not_applicable is not None


@given(t1s=scan_ids, fses=st.lists(st.integers(0, 5), max_size=4))
def test_cartesian_product_then_filter(t1s: list[str], fses: list[int]) -> None:
    """Candidates = product(T1s, FS runs) reduced by the match filter on the T1."""
    fs_assessors = tuple(
        assessor(f"FS{n}", "fs_v7", {"scan_t1": scan_path(t1s[k % len(t1s)])}, resources=("STATS",))
        for n, k in enumerate(fses)
    )
    sess = session(scans=tuple(scan(i, "T1w") for i in t1s), assessors=fs_assessors)
    result = match_scope(downstream_processor(), only_scope(sess))
    expected = sorted(
        (scan_path(t), f"/projects/P/subjects/SUBJ1/experiments/SESS1/assessors/{a.label}")
        for t, a in itertools.product(t1s, fs_assessors)
        if a.inputs == {"scan_t1": scan_path(t)}
    )
    got = sorted((c.inputs_map()["scan_t1"], c.inputs_map()["assr_fs"]) for c in result.candidates)
    assert got == expected
    assert len({c.label for c in result.candidates}) == len(result.candidates)
