"""
From a parsed URL to the stored objects it names, with XNAT's 404 texts when one is missing.

Keys in the URL are IDs or labels (labels only within a project), as XNAT accepts both.
"""

from __future__ import annotations

from xnat_client.sandbox._errors import HttpError
from xnat_client.sandbox._paths import Target
from xnat_client.sandbox._store import (
    Experiment,
    Resources,
    Store,
    StoredAssessor,
    StoredProject,
    StoredResource,
    StoredScan,
    StoredSession,
    StoredSubject,
)

NO_EXPERIMENT = "Unable to find the specified experiment."


def project(store: Store, t: Target) -> StoredProject:
    found = store.projects.get(t.project or "")
    if found is None:
        raise HttpError(404, f"Unable to identify project {t.project}")
    return found


def subject(store: Store, t: Target) -> StoredSubject:
    key = t.subject or ""
    found = store.find_subject(t.project, key) if t.project else store.subjects.get(key)
    if found is None:
        if t.project:
            project(store, t)
        raise HttpError(404, f"Unable to identify subject {key}")
    return found


def experiment(store: Store, t: Target) -> StoredSession | StoredAssessor:
    if t.project:
        project(store, t)
    found = store.find_experiment(t.project, t.experiment or "")
    if found is None:
        raise HttpError(404, NO_EXPERIMENT)
    if t.subject and isinstance(found, StoredSession):
        owner = subject(store, t)
        if found.subject_id != owner.id:
            raise HttpError(404, NO_EXPERIMENT)
    return found


def session(store: Store, t: Target) -> StoredSession:
    found = experiment(store, t)
    if not isinstance(found, StoredSession):
        raise HttpError(404, NO_EXPERIMENT)
    return found


def scan(store: Store, t: Target) -> StoredScan:
    found = session(store, t).scans.get(t.scan or "")
    if found is None:
        raise HttpError(404, "Unable to find the specified scan.")
    return found


def scans(store: Store, t: Target) -> list[StoredScan]:
    """The scans a `scans/{key}` segment names: an ID, or (for reads) `ALL`, `*`, a scan type,
    or a comma list of those, as XNAT's file and resource listings accept (XNATTemplate)."""
    found_session = session(store, t)
    key = t.scan or ""
    if key in found_session.scans:
        return [found_session.scans[key]]
    wanted = set(key.split(","))
    every = "ALL" in wanted or "*" in wanted
    chosen = [
        s for s in found_session.scans.values() if every or s.id in wanted or s.type in wanted
    ]
    if not chosen:
        raise HttpError(404, "Unable to find the specified scan.")
    return chosen


def assessor_in(store: Store, parent: StoredSession, key: str) -> StoredAssessor | None:
    """An assessor of `parent` by ID, or by label within the parent's project."""
    found = parent.assessors.get(key)
    if found is not None:
        return found
    for project in (parent.project, *parent.shares):
        other = store.find_experiment(project, key)
        if isinstance(other, StoredAssessor) and other.session_id == parent.id:
            return other
    return None


def assessor(store: Store, t: Target) -> StoredAssessor:
    found = assessor_in(store, session(store, t), t.assessor or "")
    if found is None:
        raise HttpError(404, NO_EXPERIMENT)
    return found


def owner(store: Store, t: Target) -> tuple[object, Resources]:
    """The object whose resources the URL addresses, and its resources by label."""
    if t.assessor is not None:
        found_a = assessor(store, t)
        folders = {"out": found_a.out, "in": found_a.inputs}.get(t.io, found_a.resources)
        return found_a, folders
    if t.scan is not None:
        found_s = scan(store, t)
        return found_s, found_s.resources
    if t.experiment is not None:
        found_e: Experiment = experiment(store, t)
        return found_e, found_e.resources
    if t.subject is not None:
        found_subj = subject(store, t)
        return found_subj, found_subj.resources
    found_p = project(store, t)
    return found_p, found_p.resources


def owners(store: Store, t: Target) -> list[tuple[object, Resources]]:
    """Like `owner`, but a scan segment may name several scans (`ALL`, types, lists)."""
    if t.assessor is None and t.scan is not None:
        return [(found, found.resources) for found in scans(store, t)]
    return [owner(store, t)]


def resource_in(folders: Resources, key: str) -> StoredResource | None:
    """A resource by label or by its numeric `xnat_abstractresource_id`."""
    found = folders.get(key)
    if found is not None:
        return found
    return next((r for r in folders.values() if r.id == key), None)
