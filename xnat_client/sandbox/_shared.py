"""
Sessions and subjects as a project they were shared into lists them.

XNAT's project listings select `project = P OR sharing/share/project = P` and then show a shared
row under the label it has in P, with P in the `project` column (ProjSubExptList,
ProjectSubjectList). A `SharedView` is that row's object: it answers `label` and `project` for
P and everything else (ID, scans, assessors, fields) from the shared object itself, so listing
getters and joins work on it unchanged.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from xnat_client.sandbox._store import Store, StoredSession, StoredSubject


class SharedView:
    """An object shared into `project`, seen from there."""

    __slots__ = ("_shared", "label", "project", "shared_into")

    def __init__(self, shared: StoredSession | StoredSubject, project: str) -> None:
        self._shared = shared
        self.project = project
        self.shared_into = project
        self.label = shared.shares[project]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._shared, name)


def sessions_listed_in(store: Store, project: str) -> Iterator[Any]:
    """A project's own sessions, then those shared into it, as the project lists them."""
    proj = store.projects[project]
    shared = (SharedView(s, project) for s in proj.shared.values())
    return itertools.chain(proj.sessions.values(), shared)


def subjects_listed_in(store: Store, project: str) -> Iterator[Any]:
    proj = store.projects[project]
    shared = (SharedView(s, project) for s in proj.shared_subjects.values())
    return itertools.chain(proj.subjects.values(), shared)


def subject_label_in(subject: StoredSubject, project: str) -> str:
    """A subject's label as `project` knows it."""
    return subject.shares.get(project, subject.label) if project else subject.label
