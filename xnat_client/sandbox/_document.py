"""
An item as XNAT's XML document (`format=xml`, what pyxnat's `EObject.get()` and DAX read).

The layout follows the server's own schemas (`schemas/*.xsd`): the root element is the type's
element name (`xnat:MRSession` for `xnat:mrSessionData`), identity fields are attributes
(`ID`, `project`, `label`, a session's `modality` and `UID`, a scan's `type`), typed children
carry `xsi:type` (`<xnat:validation status="...">`), a catalog is an empty `<xnat:file>` whose
attributes are its `label`, `URI`, `format`, `content`, `file_count` and `file_size`, and each
field is written in the namespace of the type that declares it: an assessor's `date` and
`imageSession_ID` are `xnat:` fields even on a `proc:genProcData`. Stored values are already
XML-escaped (as XNAT stores query values), so they are written as they are.
"""

from __future__ import annotations

from typing import Any

JsonItem = dict[str, Any]

ROOT_ELEMENTS = {
    "xnat:projectData": "xnat:Project",
    "xnat:subjectData": "xnat:Subject",
    "xnat:mrSessionData": "xnat:MRSession",
    "xnat:petSessionData": "xnat:PETSession",
    "xnat:ctSessionData": "xnat:CTSession",
    "xnat:mrScanData": "xnat:MRScan",
    "xnat:petScanData": "xnat:PETScan",
    "xnat:ctScanData": "xnat:CTScan",
    "xnat:qcAssessmentData": "xnat:QCAssessment",
    "xnat:resourceCatalog": "xnat:ResourceCatalog",
    "proc:genProcData": "proc:Processing",
}
_NAMESPACES = (
    ' xmlns:xnat="http://nrg.wustl.edu/xnat" xmlns:proc="http://nrg.wustl.edu/proc"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
# Fields written as attributes, by the xsi:type's family.
_ATTRIBUTES = {
    "project": ("ID", "secondary_ID"),
    "subject": ("ID", "project", "label", "group", "src"),
    "session": ("ID", "project", "label", "modality", "UID"),
    "experiment": ("ID", "project", "label"),
    "scan": ("ID", "type", "UID", "project"),
    "resource": ("label", "URI", "format", "content", "file_count", "file_size"),
    "validation": ("status",),
    "tracer": ("name",),  # <xnat:tracer name="FDG"> (xnat.xsd: an attribute of the element)
    "share": ("label", "project"),
    "field": ("name",),
}
# Fields `proc:genProcData` declares itself; every other assessor field is inherited from xnat.
PROC_FIELDS = frozenset(
    {
        "procstatus",
        "proctype",
        "procversion",
        "jobid",
        "walltimeused",
        "memused",
        "memusedmb",
        "jobstartdate",
        "jobnode",
        "inputs",
        "dax_version",
        "dax_version_hash",
        "dax_docker_version",
    }
)
# Not written in the document: database keys and parent links the layout already expresses.
_HIDDEN = frozenset({"xnat_abstractresource_id", "xnat_imagescandata_id", "id"})


def _family(xsi_type: str) -> str:
    name = xsi_type.split(":")[-1]
    for suffix, family in (
        ("projectData", "project"),
        ("subjectData", "subject"),
        ("SessionData", "session"),
        ("ScanData", "scan"),
        ("resourceCatalog", "resource"),
        ("validationData", "validation"),
        ("_tracer", "tracer"),
        ("_share", "share"),
        ("_field", "field"),
    ):
        if name.endswith(suffix):
            return family
    return "experiment"


def to_xml(item: JsonItem) -> str:
    """The XML document of one item, with the XML declaration."""
    xsi_type = item["meta"]["xsi:type"]
    tag = ROOT_ELEMENTS.get(xsi_type, xsi_type)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + _element(item, tag, root=True) + "\n"


def _element(item: JsonItem, tag: str, root: bool = False) -> str:
    xsi_type = item["meta"]["xsi:type"]
    family = _family(xsi_type)
    data = {k: v for k, v in item["data_fields"].items() if k not in _HIDDEN}
    as_attributes = _ATTRIBUTES.get(family, ())
    head = "".join(f' {k}="{_text(data[k])}"' for k in as_attributes if k in data)
    head += "" if root else f' xsi:type="{xsi_type}"'
    if root:
        head += _NAMESPACES
    if family == "field":  # <xnat:field name="x">value</xnat:field>
        return f"<{tag}{head}>{_text(data.get('field', ''))}</{tag}>"
    body = [
        _simple(xsi_type, key, value)
        for key, value in data.items()
        if key not in as_attributes and "/" not in key
    ]
    body.extend(_child(child) for child in item["children"])
    if not body:
        return f"<{tag}{head}/>"
    return f"<{tag}{head}>{''.join(body)}</{tag}>"


def _simple(xsi_type: str, key: str, value: Any) -> str:
    prefix = "proc" if xsi_type.startswith("proc:") and key in PROC_FIELDS else "xnat"
    return f"<{prefix}:{key}>{_text(value)}</{prefix}:{key}>"


def _child(child: dict[str, Any]) -> str:
    """`scans/scan` -> `<xnat:scans><xnat:scan .../>...</xnat:scans>`, and so on."""
    parts = child["field"].split("/")
    inner = "".join(_element(sub, f"xnat:{parts[-1]}") for sub in child["items"])
    for part in reversed(parts[:-1]):
        inner = f"<xnat:{part}>{inner}</xnat:{part}>"
    return inner


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
