"""
The data models of what XNAT holds (projects, sessions, scans, assessors, files,
workflow entries), on their own.

A planner that only reads these (no network) imports this module, not the client, so its
code depends on no HTTP library. The same names are exported from `xnat_client`.
"""

from ._models import (
    PROC_XSI_TYPE,
    SUBJECT_PROC_XSI_TYPE,
    Assessor,
    FileEntry,
    Project,
    ProjectSnapshot,
    Resource,
    Scan,
    Session,
    Subject,
    Workflow,
)

__all__ = [
    "PROC_XSI_TYPE",
    "SUBJECT_PROC_XSI_TYPE",
    "Assessor",
    "FileEntry",
    "Project",
    "ProjectSnapshot",
    "Resource",
    "Scan",
    "Session",
    "Subject",
    "Workflow",
]
