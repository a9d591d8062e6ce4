"""
What a listing column means: shortcut names and xpaths resolved to (header, join level, getter).

XNAT's QueryOrganizerResource accepts a shortcut (`ID`, `subject_label`, ...) or an xpath
(`xnat:imagescandata/type`). The header is the shortcut name when the xpath equals, ignoring
case, the xpath of one of the root type's shortcuts; otherwise it is the lower-cased xpath
(XMLPathShortcuts.java, QueryOrganizerResource.formatHeaders). Each column lives on one join
level: 0 is the root object, deeper levels are its children (scans, then scan resources;
or assessor output resources), which is how one row per join comes about.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from xnat_client.sandbox._shared import subject_label_in
from xnat_client.sandbox._store import (
    ASSESSOR_TYPES,
    SESSION_TYPES,
    SUBJECT_ASSESSOR_TYPES,
    Store,
    modality_of,
)
from xnat_client.sandbox._xpaths import field_key

Getter = Callable[[Any], str]


def attribute_of(getter: Getter) -> str | None:
    """The attribute name when `getter` is a plain attrgetter, so a listing can read a whole
    level with one combined attrgetter call."""
    if isinstance(getter, attrgetter):
        text = repr(getter)  # "operator.attrgetter('name')"
        name = text[len("operator.attrgetter('") : -2]
        return name if name.isidentifier() else None
    return None


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    level: int
    get: Getter
    many: bool = False  # a multi-valued field (shares): values joined by MANY_SEPARATOR
    xpath: str = ""  # what the column selects, lower-cased

    @property
    def alias(self) -> str:
        """The column's SQL alias: what XNAT heads it with when it does not rename it
        (XftStringUtils.CreateAlias of table and column; the last 62 characters)."""
        element, _, path = (self.xpath or self.header).partition("/")
        raw = f"{element}_{path}" if path else element
        return re.sub(r"[^a-z0-9_]", "_", raw.lower())[-62:]


MANY_SEPARATOR = "\x1f"


_EXPT = "xnat:experimentdata"
EXPERIMENT_SHORTCUTS: dict[str, str] = {
    "ID": f"{_EXPT}/id",
    "label": f"{_EXPT}/label",
    "project": f"{_EXPT}/project",
    "date": f"{_EXPT}/date",
    "time": f"{_EXPT}/time",
    "note": f"{_EXPT}/note",
    "visit_id": f"{_EXPT}/visit_id",
    "validation_status": f"{_EXPT}/validation/status",
    "insert_date": f"{_EXPT}/meta/insert_date",
    "insert_user": f"{_EXPT}/meta/insert_user",
    "last_modified": f"{_EXPT}/meta/last_modified",
    "xsiType": f"{_EXPT}/extension_item/element_name",
    "subject_ID": "xnat:subjectassessordata/subject_id",
    "subject_label": "xnat:subjectdata/label",
    "subject_project": "xnat:subjectdata/project",
    "session_ID": "xnat:imagesessiondata/id",
    "session_label": "xnat:imagesessiondata/label",
    "session_project": "xnat:imagesessiondata/project",
    "modality": "xnat:imagesessiondata/modality",
    "session_type": "xnat:imagesessiondata/session_type",
    "scanner": "xnat:imagesessiondata/scanner",
    "UID": "xnat:imagesessiondata/uid",
}
SCAN_SHORTCUTS: dict[str, str] = {
    "ID": "xnat:imagescandata/id",
    "type": "xnat:imagescandata/type",
    "UID": "xnat:imagescandata/uid",
    "note": "xnat:imagescandata/note",
    "quality": "xnat:imagescandata/quality",
    "series_description": "xnat:imagescandata/series_description",
    "frames": "xnat:imagescandata/frames",
    "xnat_imagescandata_id": "xnat:imagescandata/xnat_imagescandata_id",
    "xsiType": "xnat:imagescandata/extension_item/element_name",
}
_DEMOGRAPHICS = (
    *("dob", "yob", "age", "gender", "handedness", "ses", "education", "educationDesc"),
    *("race", "ethnicity", "weight", "height", "gestational_age", "post_menstrual_age"),
    "birth_weight",
)
SUBJECT_SHORTCUTS: dict[str, str] = {
    "ID": "xnat:subjectdata/id",
    "project": "xnat:subjectdata/project",
    "label": "xnat:subjectdata/label",
    "group": "xnat:subjectdata/group",
    "src": "xnat:subjectdata/src",
    "pi_firstname": "xnat:subjectdata/investigator/firstname",
    "pi_lastname": "xnat:subjectdata/investigator/lastname",
    **{name: f"xnat:subjectdata/demographics/{name.lower()}" for name in _DEMOGRAPHICS},
    "insert_date": "xnat:subjectdata/meta/insert_date",
    "insert_user": "xnat:subjectdata/meta/insert_user",
    "last_modified": "xnat:subjectdata/meta/last_modified",
    "xsiType": "xnat:subjectdata/extension_item/element_name",
}
PROJECT_SHORTCUTS: dict[str, str] = {
    "ID": "xnat:projectdata/id",
    "secondary_ID": "xnat:projectdata/secondary_id",
    "name": "xnat:projectdata/name",
    "description": "xnat:projectdata/description",
    "keywords": "xnat:projectdata/keywords",
    "alias": "xnat:projectdata/aliases/alias",
    "pi_firstname": "xnat:projectdata/pi/firstname",
    "pi_lastname": "xnat:projectdata/pi/lastname",
    "note": "xnat:projectdata/note",
    "xsiType": "xnat:projectdata/extension_item/element_name",
}
# attrgetter rather than lambdas: listings call these ~10^6 times per request.
_RESOURCE_ATTRS: dict[str, Getter] = {
    "label": attrgetter("label"),
    "format": attrgetter("format"),
    "content": attrgetter("content"),
    "file_count": attrgetter("count"),
    "file_size": attrgetter("size"),
    "xnat_abstractresource_id": attrgetter("id"),
}
_META: dict[str, Getter] = {
    "meta/insert_date": attrgetter("insert_date"),
    "meta/last_modified": attrgetter("last_modified"),
    "meta/insert_user": lambda o: "admin",
    "extension_item/element_name": attrgetter("xsi_type"),
}


def _fields(path: str) -> Getter:
    return lambda o: o.fields.get(path, "")


def _experiment_getter(path: str) -> Getter:
    """A field of a session or an assessor, by its xpath below the type name."""
    direct: dict[str, Getter] = {
        "id": attrgetter("id"),
        "label": attrgetter("label"),
        "project": attrgetter("project"),
        "date": attrgetter("date"),
        "subject_id": lambda o: getattr(o, "subject_id", ""),
        "imagesession_id": lambda o: getattr(o, "session_id", ""),
        "modality": lambda o: o.fields.get("modality") or modality_of(o.xsi_type),
        "sharing/share/project": _shares("project"),
        "sharing/share/label": _shares("label"),
        **_META,
    }
    return direct.get(path) or _fields(path)


_SHARE_PATHS = ("/sharing/share/project", "/sharing/share/label")


def _shares(what: str) -> Getter:
    """The projects (or labels) an experiment is shared into, for filters that match any."""
    if what == "project":
        return lambda o: MANY_SEPARATOR.join(getattr(o, "shares", {}))
    return lambda o: MANY_SEPARATOR.join(getattr(o, "shares", {}).values())


def _scan_getter(path: str) -> Getter:
    direct: dict[str, Getter] = {
        name: attrgetter(name)
        for name in ("id", "type", "series_description", "quality", "note", "frames", "uid")
    }
    direct["xnat_imagescandata_id"] = attrgetter("pk")
    direct["extension_item/element_name"] = attrgetter("xsi_type")
    return direct.get(path) or (lambda s: "")


def _split(xpath: str) -> tuple[str, str]:
    element, _, path = xpath.partition("/")
    return element, path


class Context:
    """One listing root: its shortcuts, its join levels and how each xpath is read."""

    shortcuts: dict[str, str] = EXPERIMENT_SHORTCUTS

    def __init__(self, store: Store) -> None:
        self.store = store
        self._by_xpath = {x: name for name, x in self.shortcuts.items()}

    def column(self, key: str) -> Column | None:
        """The column a `columns=` entry or a filter key names, or None when unknown."""
        if "/" not in key:
            name = key if key in self.shortcuts else self._shortcut_ci(key)
            if name is None:
                return None
            xpath = self.shortcuts[name]
        else:
            element, _, path = key.partition("/")
            xpath = f"{element.lower()}/{field_key(path)}"
            name = self._by_xpath.get(xpath)
        found = self.resolve(xpath)
        if found is None:
            return None
        level, getter = found
        return Column(name or xpath, level, getter, xpath.endswith(_SHARE_PATHS), xpath)

    def _shortcut_ci(self, key: str) -> str | None:
        lowered = key.lower()
        return next((n for n in self.shortcuts if n.lower() == lowered), None)

    def resolve(self, xpath: str) -> tuple[int, Getter] | None:
        raise NotImplementedError

    def children(self, level: int, obj: Any) -> list[Any]:
        """The objects one level below `obj` (scans of a session, files of a scan, ...)."""
        raise NotImplementedError


class SessionContext(Context):
    """
    Root: a session (or any experiment). Level 1 is what the columns join: its scans
    (`xnat:imagescandata/...`, `xnat:imagesessiondata/scans/scan/...`) with their resources at
    level 2, or its assessors (`proc:genprocdata/...`, `.../assessors/assessor/...`) with their
    output resources at level 2. The first joined column decides; XNAT would cross the two, a
    shape no client asks for, so columns of the other join are dropped.
    """

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.join = ""

    def resolve(self, xpath: str) -> tuple[int, Getter] | None:
        element, path = _split(xpath)
        if element in SUBJECT_ASSESSOR_TYPES:
            if path.startswith("resources/resource/"):
                return self._resource(path[len("resources/resource/") :])
            return 0, _experiment_getter(path)
        if element in SESSION_TYPES or element in (_EXPT, "xnat:subjectassessordata"):
            if path.startswith("scans/scan/"):
                return self._scan(path[len("scans/scan/") :])
            if path.startswith("assessors/assessor/"):
                return self._assessor(path[len("assessors/assessor/") :])
            return 0, _experiment_getter(path)
        if element == "xnat:subjectdata":
            return 0, _subject_of(self.store, path)
        if element.endswith("scandata"):
            return self._scan(path)
        if element in ASSESSOR_TYPES:
            return self._assessor(path)
        return None

    def _joins(self, kind: str) -> bool:
        self.join = self.join or kind
        return self.join == kind

    def _resource(self, path: str) -> tuple[int, Getter] | None:
        """A resource of the experiment itself (a subject assessor's outputs)."""
        if not self._joins("resource"):
            return None
        attr = _RESOURCE_ATTRS.get(path)
        return (1, attr) if attr else None

    def _scan(self, path: str) -> tuple[int, Getter] | None:
        if not self._joins("scan"):
            return None
        if path.startswith("file/"):
            attr = _RESOURCE_ATTRS.get(path[len("file/") :])
            return (2, attr) if attr else None
        return 1, _scan_getter(path)

    def _assessor(self, path: str) -> tuple[int, Getter] | None:
        if not self._joins("assessor"):
            return None
        if path.startswith("out/file/"):
            attr = _RESOURCE_ATTRS.get(path[len("out/file/") :])
            return (2, attr) if attr else None
        return 1, _experiment_getter(path)

    def children(self, level: int, obj: Any) -> list[Any]:
        if level == 0:
            if self.join == "assessor":
                return list(getattr(obj, "assessors", {}).values())
            if self.join == "resource":
                return list(obj.resources.values())
            return list(getattr(obj, "scans", {}).values())
        if self.join == "assessor":
            return list(obj.out.values())
        return list(obj.resources.values())


class AssessorContext(Context):
    """Root: an image assessor; level 1: its output resources. Session xpaths read its parent."""

    def resolve(self, xpath: str) -> tuple[int, Getter] | None:
        element, path = _split(xpath)
        if element in ASSESSOR_TYPES or element == _EXPT:
            if path.startswith("out/file/"):
                attr = _RESOURCE_ATTRS.get(path[len("out/file/") :])
                return (1, attr) if attr else None
            return 0, _experiment_getter(path)
        if element in SESSION_TYPES or element == "xnat:subjectassessordata":
            getter = _experiment_getter(path)
            experiments = self.store.experiments
            return 0, lambda a: getter(experiments[a.session_id])
        if element == "xnat:subjectdata":
            of_subject = _subject_of(self.store, path)
            experiments = self.store.experiments
            return 0, lambda a: of_subject(experiments[a.session_id])
        return None

    def children(self, level: int, obj: Any) -> list[Any]:
        return list(obj.out.values())


class ScanContext(Context):
    """Root: the scans of one session; level 1: their resources."""

    shortcuts = SCAN_SHORTCUTS

    def resolve(self, xpath: str) -> tuple[int, Getter] | None:
        element, path = _split(xpath)
        if not element.endswith("scandata"):
            return None
        if path.startswith("file/"):
            attr = _RESOURCE_ATTRS.get(path[len("file/") :])
            return (1, attr) if attr else None
        return 0, _scan_getter(path)

    def children(self, level: int, obj: Any) -> list[Any]:
        return list(obj.resources.values())


class SubjectContext(Context):
    shortcuts = SUBJECT_SHORTCUTS

    def resolve(self, xpath: str) -> tuple[int, Getter] | None:
        element, path = _split(xpath)
        if element != "xnat:subjectdata":
            return None
        direct: dict[str, Getter] = {
            "id": lambda s: s.id,
            "label": lambda s: s.label,
            "project": lambda s: s.project,
            "meta/insert_date": lambda s: s.insert_date,
            "meta/last_modified": lambda s: s.last_modified,
            "meta/insert_user": lambda s: "admin",
            "extension_item/element_name": lambda s: "xnat:subjectData",
        }
        return 0, direct.get(path) or _fields(path)


class ProjectContext(Context):
    shortcuts = PROJECT_SHORTCUTS

    def resolve(self, xpath: str) -> tuple[int, Getter] | None:
        element, path = _split(xpath)
        if element != "xnat:projectdata":
            return None
        direct: dict[str, Getter] = {
            "id": lambda p: p.id,
            "name": lambda p: p.name,
            "description": lambda p: p.description,
            "secondary_id": lambda p: p.secondary_id or p.id,
            "extension_item/element_name": lambda p: "xnat:projectData",
        }
        return 0, direct.get(path) or _fields(path)


def _subject_of(store: Store, path: str) -> Getter:
    """A field of the subject of a session; a shared session's subject goes by its label and
    project in the project the session was shared into."""
    subjects = store.subjects

    def of_session(session: Any) -> str:
        subject = subjects.get(getattr(session, "subject_id", ""))
        if subject is None:
            return ""
        into = getattr(session, "shared_into", "")
        if path == "id":
            return subject.id
        if path == "label":
            return subject_label_in(subject, into)
        if path == "project":
            return into or subject.project
        return subject.fields.get(path, "")

    return of_session
