"""
Site-level endpoints: sessions, auth checks, version and datatype discovery.

JSESSION and /data/auth follow UserSession.java and UserAuth.java; /data/services/auth follows
AuthenticationRestlet.java; /data/version is 404 on XNAT >= 1.7 and clients fall back to
/xapi/siteConfig/buildInfo; /data/search/elements is how pyxnat and dax detect proc:genProcData
(SearchElementListResource); /xapi/schemas serves the XSDs in `schemas/`, written for this
server, which xnatpy builds its object model from (SchemaApi). See xnat-rest.md 1.2, 8.1, 6.4.
"""

from __future__ import annotations

import json
from importlib.resources import files
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from xnat_client.sandbox._auth import Sessions
from xnat_client.sandbox._listing import render
from xnat_client.sandbox._store import Store

BUILD_INFO = {
    "version": "1.8.11",
    "buildNumber": "1",
    "buildDate": "Mon Jul 01 00:00:00 UTC 2024",
    "sha": "0000000000",
    "isDirty": "false",
    "commit": "0",
    "tag": "1.8.11",
    "shaFull": "0" * 40,
    "branch": "master",
    "timestamp": "1719792000000",
}
_ELEMENTS = (
    ("xnat:projectData", "Project", "Projects"),
    ("xnat:subjectData", "Subject", "Subjects"),
    ("xnat:mrSessionData", "MR Session", "MR Sessions"),
    ("xnat:petSessionData", "PET Session", "PET Sessions"),
    ("xnat:ctSessionData", "CT Session", "CT Sessions"),
    ("xnat:mrScanData", "MR Scan", "MR Scans"),
    ("xnat:qcAssessmentData", "QC Assessment", "QC Assessments"),
    ("proc:genProcData", "Processing", "Processings"),
)


def text(body: str, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="text/plain")


def jsession(token: str) -> Response:
    """The session id as text; the caller's cookie handling sets JSESSIONID."""
    return text(token)


def auth_status(user: str) -> Response:
    return text(f"User '{user}' is logged in")


async def services_auth(request: Request, sessions: Sessions) -> tuple[Response, str | None]:
    """Form login; returns the answer and the session it opened, if any."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    user = (form.get("username") or form.get("j_username") or [""])[0]
    password = (form.get("password") or form.get("j_password") or [""])[0]
    if not sessions.check_password(user, password):
        return text("Authentication failed.", 401), None
    token = sessions.open(user)
    return text(token), token


def build_info() -> Response:
    return Response(json.dumps(BUILD_INFO), media_type="application/json")


def search_elements(store: Store, fmt: str) -> Response:
    counts: dict[str, int] = {"xnat:projectData": len(store.projects)}
    counts["xnat:subjectData"] = len(store.subjects)
    for experiment in store.experiments.values():
        counts[experiment.xsi_type] = counts.get(experiment.xsi_type, 0) + 1
    rows = [
        {
            "ELEMENT_NAME": name,
            "SINGULAR": singular,
            "PLURAL": plural,
            "SECURED": "true",
            "COUNT": str(counts.get(name, 0)),
        }
        for name, singular, plural in _ELEMENTS
    ]
    headers = ["ELEMENT_NAME", "SINGULAR", "PLURAL", "SECURED", "COUNT"]
    return render(rows, headers, fmt)


SCHEMAS = ("xnat", "proc", "xdat")  # the XSDs in xnat_client/sandbox/schemas/


def schema_list() -> Response:
    """`GET /xapi/schemas`: the installed schemas by name (SchemaApi.getAllDataTypeSchemas)."""
    return Response(json.dumps(list(SCHEMAS)), media_type="application/json")


def schema(path: str) -> Response | None:
    """`GET /xapi/schemas/{schema}` or `/xapi/schemas/{namespace}/{schema}`: the XSD text.

    XNAT keeps `schemas/<namespace>/<schema>.xsd` and the one-part form means namespace and
    schema share the name. None when no such schema is served.
    """
    parts = path.removeprefix("/xapi/schemas/").removesuffix(".xsd").split("/")
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or parts[0] != parts[1] or parts[0] not in SCHEMAS:
        return None
    text = (files("xnat_client.sandbox") / "schemas" / f"{parts[0]}.xsd").read_text("utf-8")
    return Response(text, media_type="application/xml")
