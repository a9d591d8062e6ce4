"""
Joined listing rows folded into sessions, scans, resources and assessors as they arrive.

A bulk listing gives one row per join (session x scan x scan resource; assessor x output
resource), with empty child cells when a parent has no children. A fold takes the header once,
then rows in batches while the body still streams, and keeps only what the models keep: a row
is dropped as soon as it is folded, and cells that repeat across rows and sessions (types,
labels, statuses, formats) are stored once through a shared pool.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter

from ._build import builder
from ._cells import clean, inputs, number, unescape
from ._models import PROC_XSI_TYPE, Assessor, Resource, Scan, Session, Subject

SCAN = "xnat:imagescandata/"
SCAN_FILE = "xnat:imagescandata/file/"
PROC = "proc:genprocdata/"

SESSION_CELLS = (
    *("ID", "label", "project", "subject_ID", "subject_label", "date", "xsiType", "last_modified"),
    "session_type",
    *(f"{SCAN}{c}" for c in ("id", "type", "series_description", "quality", "note", "frames")),
    *(f"{SCAN_FILE}{c}" for c in ("label", "format", "file_count", "file_size")),
    f"{SCAN_FILE}xnat_abstractresource_id",
)
ASSESSOR_CELLS = (
    *("ID", "label", "project", "session_ID", "session_label", "last_modified"),
    *(f"{PROC}{c}" for c in ("proctype", "procversion", "procstatus", "validation/status")),
    *(f"{PROC}{c}" for c in ("note", "inputs", "jobid", "jobnode", "jobstartdate", "memused")),
    *(f"{PROC}{c}" for c in ("walltimeused", "out/file/label")),
)
SUBJECT_CELLS = ("ID", "label", "project")

Row = Sequence[str]
_ScanEntry = tuple[list[str], dict[str, Resource]]  # scan cells, resource label -> Resource
Pool = Callable[[str, str], str]
_resource = builder(Resource)
_scan = builder(Scan)
_session = builder(Session)
_assessor = builder(Assessor)
_subject = builder(Subject)


def new_pool() -> Pool:
    """One stored copy per distinct repeated value (`pool(v, v)` returns the first seen)."""
    return dict[str, str]().setdefault


def _undone(cells: list[str]) -> list[str]:
    """The cells with XML entities undone (most have none: one `in` test each)."""
    return [unescape(v) if "&" in v else v for v in cells]


class _Picker:
    """
    The wanted cells of each row of a batch, in `wanted` order ("" for a column the header
    lacks). XNAT answers the columns in the order asked, after the root's key column on a
    project's listing (`session_ID`) and before `URI` and the auto-added columns, so a row is
    usually the wanted run at a fixed offset: the cells before it are cut off in place and the
    row passes on. XML entities are left in: a fold undoes them only in the cells it keeps
    (most rows of a join repeat their parent's cells, which are kept once).
    """

    def __init__(self, header: Sequence[str], wanted: Sequence[str]) -> None:
        where = {name: i for i, name in enumerate(header)}
        self.width = len(header)
        self.get = itemgetter(*[where.get(name, self.width) for name in wanted])
        first = where.get(wanted[0], 0) if wanted else 0
        self.skip = first
        self.in_order = list(header[first : first + len(wanted)]) == list(wanted)

    def __call__(self, rows: list[list[str]]) -> list[list[str]]:
        if self.in_order and set(map(len, rows)) == {self.width}:
            if self.skip:
                for row in rows:
                    del row[: self.skip]
            return rows
        width, get = self.width, self.get
        return [
            list(get([*row[:width], *[""] * (width + 1 - min(len(row), width))])) for row in rows
        ]


class SessionFold:
    """session x scan x scan-resource rows -> sessions with scans and resources, listing order."""

    cells = SESSION_CELLS

    def __init__(self, header: Sequence[str], pool: Pool) -> None:
        self.pick = _Picker(header, self.cells)
        self.pool = pool
        self.found: dict[str, tuple[tuple[str, ...], dict[str, _ScanEntry]]] = {}

    def add(self, rows: list[list[str]], escaped: bool) -> None:
        """
        Fold a batch. Cells are stored once per session, scan and resource, through the pool
        where they repeat across the project (types, labels, formats, quality), as they are
        where they do not (notes, frames); with XML entities undone when the batch has any.
        """
        pool, found, resource, count = self.pool, self.found, _resource, number
        last, scans = "", dict[str, _ScanEntry]()
        for c in self.pick(rows):
            if c[0] != last:
                last = c[0]
                entry = found.get(last)
                if entry is None:
                    if not last:
                        continue  # a broken join row without a session ID
                    head = _undone(c[:9]) if escaped else c[:9]
                    entry = found[last] = (tuple([pool(v, v) for v in head]), {})
                scans = entry[1]
            if not c[9] or not last:
                continue  # the LEFT JOIN row of a session without scans, or no session ID
            scan = scans.get(c[9])
            if scan is None:
                s = _undone(c[9:15]) if escaped else c[9:15]
                kept = [pool(s[0], s[0]), pool(s[1], s[1]), pool(s[2], s[2]), pool(s[3], s[3])]
                scan = scans[c[9]] = ([*kept, s[4], s[5]], {})
            label = c[15]
            if label and label not in scan[1]:
                shown, fmt = (clean(label), clean(c[16])) if escaped else (label, c[16])
                scan[1][label] = resource(
                    {
                        "label": pool(shown, shown),
                        "id": c[19],
                        "format": pool(fmt, fmt),
                        "file_count": int(c[17]) if c[17].isdigit() else count(c[17]),
                        "file_size": int(c[18]) if c[18].isdigit() else count(c[18]),
                    }
                )

    def build(self, assessors: dict[str, list[Assessor]]) -> list[Session]:
        """The sessions, each with the assessors listed under its ID."""
        return [
            _session(
                {
                    "id": sid,
                    "label": s[1],
                    "project": s[2],
                    "subject_id": s[3],
                    "subject_label": s[4],
                    "xsi_type": s[6],
                    "date": s[5],
                    "last_modified": s[7],
                    "session_type": s[8],
                    "tracer": "",
                    "scans": tuple([_build_scan(*scan) for scan in scans.values()]),
                    "assessors": tuple(assessors.get(sid, ())),
                }
            )
            for sid, (s, scans) in self.found.items()
        ]


def _build_scan(c: list[str], resources: dict[str, Resource]) -> Scan:
    return _scan(
        {
            "id": c[0],
            "type": c[1],
            "series_description": c[2],
            "quality": c[3],
            "note": c[4],
            "frames": number(c[5]),
            "xsi_type": "",
            "resources": tuple(resources.values()),
        }
    )


class AssessorFold:
    """assessor x output-resource rows -> one assessor per ID with its output labels."""

    cells = ASSESSOR_CELLS
    _POOLED = frozenset({2, 3, 4, 6, 7, 8, 9, 10, 13})  # project, session, types, statuses

    def __init__(self, header: Sequence[str], pool: Pool) -> None:
        self.pick = _Picker(header, self.cells)
        self.pool = pool
        self.found: dict[str, tuple[tuple[str, ...], dict[str, None]]] = {}

    def add(self, rows: list[list[str]], escaped: bool) -> None:
        """Fold a batch: an assessor's cells kept from its first row (XML entities undone)."""
        pool, found, pooled = self.pool, self.found, self._POOLED
        for c in self.pick(rows):
            key = c[0]
            if not key:
                continue
            entry = found.get(key)
            if entry is None:
                cells = _undone(c) if escaped else c
                kept = tuple([pool(v, v) if i in pooled else v for i, v in enumerate(cells)])
                entry = found[key] = (kept, {})
            if c[17]:
                entry[1][clean(c[17]) if escaped else c[17]] = None

    def build(self) -> list[Assessor]:
        return [_build_assessor(c, list(outputs)) for c, outputs in self.found.values()]

    def by_session(self) -> dict[str, list[Assessor]]:
        grouped: dict[str, list[Assessor]] = {}
        for assessor in self.build():
            grouped.setdefault(assessor.session_id, []).append(assessor)
        return grouped


def _build_assessor(c: tuple[str, ...], resources: list[str]) -> Assessor:
    return _assessor(
        {
            "id": c[0],
            "label": c[1],
            "project": c[2],
            "session_id": c[3],
            "xsi_type": PROC_XSI_TYPE,
            "subject_id": "",
            "session_label": c[4],
            "proctype": c[6],
            "procversion": c[7],
            "procstatus": c[8],
            "qcstatus": c[9],
            "note": c[10],
            "inputs": inputs(c[11]),
            "inputs_raw": c[11],
            "jobid": c[12],
            "jobnode": c[13],
            "jobstartdate": c[14],
            "memused": c[15],
            "walltimeused": c[16],
            "last_modified": c[5],
            "resources": tuple(resources),
        }
    )


class SubjectFold:
    """Subject rows -> one subject per ID."""

    cells = SUBJECT_CELLS

    def __init__(self, header: Sequence[str], pool: Pool) -> None:
        self.pick = _Picker(header, self.cells)
        self.pool = pool
        self.found: dict[str, Subject] = {}

    def add(self, rows: list[list[str]], escaped: bool) -> None:
        for c in self.pick(rows):
            sid, label, project = (clean(v) for v in c[:3]) if escaped else c[:3]
            if sid and sid not in self.found:
                self.found[sid] = _subject(
                    {"id": sid, "label": label, "project": self.pool(project, project)}
                )

    def build(self) -> list[Subject]:
        return list(self.found.values())
