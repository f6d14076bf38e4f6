"""SMPP over TLS to the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.simulator.conftest import Inbox, client, config
from tests.integration.transport.certs import TlsFiles, make_tls_files

from marconi.simulator import Simulator
from marconi.smpp import SubmitSm, parse_receipt
from marconi.transport import client_ssl_context


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("smsc-tls"))


async def test_submit_and_receipt_over_tls(tls: TlsFiles) -> None:
    async with Simulator(config(tls_cert=tls.cert, tls_key=tls.key)) as sim:
        inbox = Inbox()
        esme = client(
            sim, inbox, ssl=client_ssl_context(cafile=tls.ca_cert), server_hostname="localhost"
        )
        async with esme:
            resp = await esme.submit(
                SubmitSm(
                    destination_addr="447700900123", short_message=b"tls", registered_delivery=1
                )
            )
            [pdu] = await inbox.wait_for(1)
    assert parse_receipt(pdu).message_id == resp.message_id
    [message] = sim.handset("447700900123")
    assert message.text == "tls"


async def test_missing_certificate_fails_at_start(tmp_path: Path) -> None:
    sim = Simulator(config(tls_cert=tmp_path / "none.pem", tls_key=tmp_path / "none.key"))
    with pytest.raises(FileNotFoundError):
        await sim.start()
