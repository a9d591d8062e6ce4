"""
DAX's settings vocabulary, defined once: the keys the import maps, and for each key it leaves,
the reason a person reads on its `not mapped:` line.
"""

from __future__ import annotations

from aspider.settings import AspiderSettings

# DAX attrs that have no aspider setting, and why.
UNMAPPED_ATTRS = {
    "queue_limit_pending": "aspider limits what is queued or running (limits.max_queued) only",
    "limit_pendinguploads": "aspider uploads outputs as jobs end, in the sweep",
    "launch_delay_sec": "aspider submits without pauses, within its limits",
    "root_job_dir": "aspider jobs run in their job directory under cluster.work_root",
    "priority_project": "aspider orders by processor priority, then session age",
    "job_email": "aspider mails problems, not each job (notify:; the status page reports jobs)",
    "job_email_options": "aspider mails problems, not each job (notify:)",
    "cr": "not needed: aspider reads XNAT's answers as they come",
    "launcher_type": "aspider has one way to run",
    "skip_lastupdate": "aspider decides what changed from each session's state",
}
MAPPED_ATTRS = {"xnat_host", "xnat_user", "xnat_pass", "queue_limit", "job_rungroup"}
UNMAPPED_TOP = {
    "resdir": "DAX's local results folder (DISKQ, outputs before upload); aspider's job "
    "directories are in cluster.work_root",
    "modulelib": "DAX modules are not processors",
    "modules": "DAX modules are not processors",
    "processors": "legacy (v1/v2) processors: aspider reads v3 processor files only",
    "timeout_emails": "aspider mails each problem once, then 'resolved' (notify.alerts_per_hour "
    "bounds a burst)",
}
SECTIONS = ("yamlprocessors", "sgpprocessors")
MAPPED_TOP = {*SECTIONS, "attrs", "processorlib", "singularity_imagedir", "jobtemplate"}
MAPPED_TOP |= {"projects", "admin_email", "smtp_host"}
PROJECT_KEYS = {"project", *SECTIONS}
# Only aspider's settings have these; a DAX file never does.
ASPIDER_ONLY = sorted(set(AspiderSettings.model_fields) - MAPPED_TOP - set(UNMAPPED_TOP))
ENTRY = "`- {name: NAME, filepath: NAME_vX.Y.Z.yaml}`"  # a processor entry, as DAX writes it
