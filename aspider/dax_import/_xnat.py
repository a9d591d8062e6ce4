"""
The XNAT host and user where DAX finds them: `attrs.xnat_host`, else `XNAT_HOST`;
`attrs.xnat_user`, else the login of the `~/.netrc` entry for that host. A password is never
carried: a note says where aspider will read it, or what to set.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aspider._config_errors import xnat_url_problem
from aspider.dax_import._import_job import ImportJob
from xnat_client import AuthFailed, Credentials

_PASSWORD_SOURCES = "ASPIDER_XNAT__PASSWORD, or xnat.password_file (a mounted secret)"


def carry_xnat(job: ImportJob) -> None:
    """`xnat.url` and `xnat.user`, each with where it came from, and the password's note."""
    url = job.text("attrs", "xnat_host")
    source = job.source("attrs", "xnat_host")
    if url is None and job.env.xnat_host:
        url, source = job.env.xnat_host, "$XNAT_HOST"
    if url is None:
        job.out.notes.append(
            f"xnat.url is not set: {job.doc.path} has no attrs.xnat_host and XNAT_HOST is not "
            "set here; set xnat.url in the written settings (e.g. https://xnat.example.org)"
        )
    else:
        job.section("xnat")["url"] = url
        job.carry("xnat.url", url, source)
        problem = _url_problem(url)
        if problem is not None:
            job.out.notes.append(f"{problem} (in the written settings)")
            url = None  # no host to look up in ~/.netrc
    _carry_user(job, url)


def _url_problem(url: str) -> str | None:
    try:
        return xnat_url_problem(url)
    except ValueError as exc:  # urlsplit's: a broken [IPv6] host
        return f"xnat.url {url!r} is not a URL ({exc})"


def _carry_user(job: ImportJob, url: str | None) -> None:
    """The user from the file, else the login of ~/.netrc's entry for the host, as DAX finds it."""
    user = job.text("attrs", "xnat_user")
    host = (urlsplit(url).hostname or url) if url else None
    found = None
    try:
        found = Credentials.from_netrc(url, job.env.netrc) if url else None
    except (AuthFailed, OSError, ValueError) as exc:
        job.out.notes.append(f"{job.env.netrc}: {exc}: aspider reads it too; fix it")
    if user is not None:
        job.carry_from(("attrs", "xnat_user"), "xnat.user", user)
    elif found is not None:
        user = found.user
        job.carry("xnat.user", user, f"{job.env.netrc} (its entry for {host})")
    if user is not None:
        job.section("xnat")["user"] = user
    job.out.notes.append(_password_note(job, host, user, found))


def _password_note(
    job: ImportJob, host: str | None, user: str | None, found: Credentials | None
) -> str:
    netrc = job.env.netrc
    if host is None:
        return (
            f"password: aspider reads it from {_PASSWORD_SOURCES}, or ~/.netrc's entry for "
            "xnat.url's host"
        )
    if found is not None and user not in (None, found.user):
        return (
            f"password: aspider reads it from {netrc} (its entry for {host}), and logs "
            f"in as that entry's user {found.user}, not {user}: make the two agree"
        )
    if found is not None:
        return f"password: aspider reads it from {netrc} (its entry for {host}), as DAX did"
    return (
        f"password: none for {host} in {netrc}; aspider never keeps one in its settings "
        f"file: set {_PASSWORD_SOURCES}, or add `machine {host} login {user or 'USER'} "
        "password ...` to ~/.netrc (mode 600)"
    )
