"""
DAX's XnatUtils listing functions, run by the DAX venv, as a DAX launcher calls them on a
project. Prints what each returned as JSON (the keys DAX reads downstream).

Usage: python dax_listings.py URL USER PASSWORD PROJECT
"""

import json
import sys

from dax import XnatUtils

SCAN_KEYS = ("session_label", "scan_id", "scan_type", "scan_quality", "resources", "subject_label")
ASSESSOR_KEYS = ("label", "session_label", "proctype", "procstatus", "qcstatus", "resources")


def keep(rows, keys):
    return [{k: row.get(k) for k in keys} for row in rows]


def listings(url: str, user: str, password: str, project: str) -> dict:
    seen: dict = {}
    with XnatUtils.get_interface(host=url, user=user, pwd=password) as intf:
        subjects = intf.get_subjects(project)
        seen["subjects"] = keep(subjects, ("subject_label", "gender", "handedness", "yob", "src"))
        sessions = intf.get_sessions(project)
        seen["sessions"] = keep(sessions, ("session_label", "subject_label", "type", "gender"))
        seen["project_scans"] = keep(intf.get_project_scans(project), SCAN_KEYS)
        seen["project_assessors"] = keep(intf.get_project_assessors(project), ASSESSOR_KEYS)
        seen["listed_assessors"] = keep(intf.list_project_assessors(project), ASSESSOR_KEYS)
        first = sessions[0]
        scans = intf.get_scans(project, first["subject_label"], first["session_label"])
        seen["scans"] = {"session": first["session_label"], "rows": keep(scans, SCAN_KEYS)}
    return seen


if __name__ == "__main__":
    url, user, password, project = sys.argv[1:5]
    print(json.dumps(listings(url, user, password, project)))
