"""``ssl.SSLContext`` builders for SMPP over TLS, with safe defaults (TLS 1.2 or newer)."""

from __future__ import annotations

import ssl
from os import PathLike

__all__ = ["client_ssl_context", "server_ssl_context"]

StrPath = str | PathLike[str]


def server_ssl_context(
    *,
    certfile: StrPath,
    keyfile: StrPath | None = None,
    password: str | None = None,
    client_cafile: StrPath | None = None,
    require_client_cert: bool = False,
    minimum_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
) -> ssl.SSLContext:
    """A context for the SMSC side: our certificate chain and key, optionally client certificates.

    ``client_cafile`` lists the authorities whose client certificates are accepted;
    ``require_client_cert`` refuses clients that present none.
    """
    if require_client_cert and client_cafile is None:
        raise ValueError("require_client_cert needs client_cafile to verify them against")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = minimum_version
    context.load_cert_chain(certfile, keyfile, password)
    if client_cafile is not None:
        context.load_verify_locations(cafile=client_cafile)
        context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    return context


def client_ssl_context(
    *,
    cafile: StrPath | None = None,
    cadata: str | None = None,
    check_hostname: bool = True,
    verify: bool = True,
    certfile: StrPath | None = None,
    keyfile: StrPath | None = None,
    password: str | None = None,
    minimum_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
) -> ssl.SSLContext:
    """A context for the ESME side.

    Without ``cafile``/``cadata`` the system's trust store is used. ``verify=False`` accepts any
    certificate (for lab SMSCs with self-signed certificates only; it defeats TLS's purpose).
    ``certfile``/``keyfile`` present a client certificate.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile, cadata=cadata)
    context.minimum_version = minimum_version
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context.check_hostname = check_hostname
    if certfile is not None:
        context.load_cert_chain(certfile, keyfile, password)
    return context
