"""
A certificate for serving over TLS on 127.0.0.1, made at start by a throwaway CA (trustme).

The CA's certificate is written to a file so that clients in other processes (pyxnat, xnatpy,
DAX through `REQUESTS_CA_BUNDLE`, curl through `--cacert`) can verify the server as they would
a real XNAT behind HTTPS, instead of turning verification off.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from xnat_client.sandbox._tcp import LOOPBACK


@dataclass(frozen=True, slots=True)
class TlsIdentity:
    """The server side (`context`) and the file a client trusts (`ca_file`)."""

    context: ssl.SSLContext
    ca_file: Path

    def client_context(self) -> ssl.SSLContext:
        """An SSLContext that trusts only this CA, for in-process clients."""
        return ssl.create_default_context(cafile=str(self.ca_file))


def make_tls_identity(
    directory: Path, hosts: tuple[str, ...] = (LOOPBACK, "localhost")
) -> TlsIdentity:
    """
    A new CA and a certificate for `hosts`; the CA certificate goes to `directory/ca.pem`.

    Raises:
        ImportError: trustme is not installed; its message names the extra that brings it.
    """
    try:
        import trustme  # only HTTPS needs it: the `sandbox` extra
    except ImportError as exc:
        raise ImportError(
            "the sandbox's HTTPS needs trustme: pip install 'aspider-xnat[sandbox]'"
        ) from exc
    ca = trustme.CA()
    certificate = ca.issue_cert(*hosts)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    directory.mkdir(parents=True, exist_ok=True)
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return TlsIdentity(context, ca_file)
