from __future__ import annotations

import asyncio
import ssl

import pytest
from tests.integration.transport.certs import TlsFiles

from marconi.errors import ConnectError
from marconi.transport.stream import TcpStream, open_tcp_stream, start_tcp_listener
from marconi.transport.tls import client_ssl_context, server_ssl_context


async def test_tls_round_trip(tls_files: TlsFiles) -> None:
    server_context = server_ssl_context(certfile=tls_files.cert, keyfile=tls_files.key)
    tasks: set[asyncio.Task[None]] = set()

    async def shout(stream: TcpStream) -> None:
        stream.write((await stream.read()).upper())
        await stream.aclose()

    listener = await start_tcp_listener(
        lambda s: tasks.add(asyncio.create_task(shout(s))), port=0, ssl=server_context
    )
    client_context = client_ssl_context(cafile=tls_files.ca_cert)
    stream = await open_tcp_stream(
        "127.0.0.1", listener.port, ssl=client_context, connect_timeout=5
    )
    assert stream.get_extra_info("ssl_object") is not None
    stream.write(b"over tls")
    assert await asyncio.wait_for(stream.read(), 5) == b"OVER TLS"
    await stream.aclose()
    await asyncio.gather(*tasks)
    await listener.aclose()


async def test_untrusted_certificate_is_a_connect_error(tls_files: TlsFiles) -> None:
    server_context = server_ssl_context(certfile=tls_files.cert, keyfile=tls_files.key)
    accepted: list[TcpStream] = []
    listener = await start_tcp_listener(accepted.append, port=0, ssl=server_context)
    # The system trust store does not know our throwaway CA.
    with pytest.raises(ConnectError):
        await open_tcp_stream(
            "127.0.0.1", listener.port, ssl=client_ssl_context(), connect_timeout=5
        )
    for stream in accepted:
        stream.abort()
    await listener.aclose()


def test_client_context_defaults_are_strict() -> None:
    context = client_ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    lax = client_ssl_context(verify=False)
    assert lax.verify_mode == ssl.CERT_NONE
    assert not lax.check_hostname


def test_client_certificates_need_a_ca(tls_files: TlsFiles) -> None:
    with pytest.raises(ValueError, match="client_cafile"):
        server_ssl_context(certfile=tls_files.cert, keyfile=tls_files.key, require_client_cert=True)
    context = server_ssl_context(
        certfile=tls_files.cert,
        keyfile=tls_files.key,
        client_cafile=tls_files.ca_cert,
        require_client_cert=True,
    )
    assert context.verify_mode == ssl.CERT_REQUIRED
