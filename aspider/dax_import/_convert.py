"""
The import, step by step: XNAT, cluster, limits, processor files, projects, then every other
top-level key; all problems found are raised together, so one run of `import-dax` lists them.
"""

from __future__ import annotations

from aspider._exceptions import ConfigError
from aspider.dax_import._cluster import carry_cluster, carry_limits
from aspider.dax_import._conversion import Conversion
from aspider.dax_import._document import DaxDocument
from aspider.dax_import._handles import Handles, read_handles
from aspider.dax_import._import_job import DaxEnvironment, ImportJob
from aspider.dax_import._keys import MAPPED_TOP, SECTIONS, UNMAPPED_TOP
from aspider.dax_import._projects import carry_projects
from aspider.dax_import._xnat import carry_xnat
from aspider.settings import check_address


def convert(doc: DaxDocument, env: DaxEnvironment) -> Conversion:
    """
    The aspider settings a DAX settings document comes to, each processor file loaded.

    Raises:
        ConfigError: every problem found, one line each (file:line: where: what; fix).
    """
    job = ImportJob(doc, env)
    carry_xnat(job)
    carry_cluster(job)
    carry_limits(job)
    handles = read_handles(job)
    _carry_processor_paths(job, handles)
    carry_projects(job, handles)
    _other_keys(job)
    if job.problems:
        raise ConfigError("\n".join(job.problems))
    return job.out


def _carry_processor_paths(job: ImportJob, handles: Handles) -> None:
    paths = list(dict.fromkeys(str(h.path) for h in handles.values() if h is not None))
    if paths:
        job.out.settings["processor_paths"] = paths
        where = next((s,) for s in SECTIONS if s in job.doc.data)
        job.carry_from(where, "processor_paths", f"{len(paths)} file(s), each loaded and valid")


def _other_keys(job: ImportJob) -> None:
    """`admin_email` (and `smtp_host`) as notifications; every other top-level key, a line."""
    data = job.doc.data
    _carry_email(job)
    for key, why in UNMAPPED_TOP.items():
        if data.get(key):
            job.out.unmapped.append(f"{key}: {why}")
    for key in data:
        if key not in MAPPED_TOP and key not in UNMAPPED_TOP:
            job.out.unmapped.append(f"{key}: not a DAX setting aspider knows")


def _carry_email(job: ImportJob) -> None:
    """
    DAX mails its errors to `admin_email` through `smtp_host`: aspider's alerts and digest go
    there too. Without a host the block is written as a comment: recipients with no server to
    send through would stop every run.
    """
    emails = job.text("admin_email")
    if emails is None:
        return
    to = [e.strip() for e in emails.split(",") if e.strip()]
    bad = [address for address in to if not _is_address(address)]
    if bad or not to:
        job.problem(
            ("admin_email",), f"{', '.join(bad) or emails!r}: write name@host, commas between"
        )
        return
    host = job.text("smtp_host")
    secret = "ASPIDER_NOTIFY__EMAIL__PASSWORD or notify.email.password_file, never this file"
    if host is None:
        job.out.comments += [
            "notify:  (from DAX's admin_email: set the SMTP server's host, then uncomment)",
            "  email:",
            "    host: SMTP.HOST",
            f"    to: [{', '.join(to)}]",
        ]
        job.out.notes.append(
            f"admin_email {emails}: written as a commented notify.email block (the alerts and "
            "the daily digest); DAX's file names no smtp_host, so set notify.email.host and "
            f"uncomment it (a password, if the server wants one: {secret})"
        )
        return
    name, colon, written = host.rpartition(":")
    port = int(written) if colon and written.isdigit() else 25  # smtplib's default, as DAX's
    server = name if colon and written.isdigit() else host
    if not 1 <= port <= 65535 or not server:
        job.problem(("smtp_host",), f"{host!r}: write the mail server as host or host:port")
        return
    job.section("notify")["email"] = {"host": server, "port": port, "to": to}
    job.carry_from(("admin_email",), "notify.email.to", ", ".join(to))
    job.carry_from(("smtp_host",), "notify.email.host", f"{server}, port {port}")
    job.out.notes.append(
        f"notify.email: aspider mails its alerts (a task failed, blocked, XNAT or the cluster "
        f"unreachable) and a daily digest to {', '.join(to)} through {server}:{port} with "
        "STARTTLS (notify.email.security: none for a relay that offers none); check it with "
        f"`aspider notify test` (a password, if the server wants one: {secret})"
    )


def _is_address(text: str) -> bool:
    try:
        check_address(text)
    except ValueError:
        return False
    return True
