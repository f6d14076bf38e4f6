"""Our client against an independent SMSC: the shared stdlib sink."""

from __future__ import annotations

import pytest
from tests.conftest import require_peer
from tests.interop.peers import sink_smsc, sink_smsc_available
from tests.unit.transport.conftest import eventually

from marconi.errors import CommandStatusError
from marconi.smpp import CommandStatus, DeliverSm, SubmitSm, SubmitSmResp, Tag
from marconi.transport import Backoff, SmppClient


@pytest.fixture(autouse=True)
def _need_sink() -> None:
    require_peer(sink_smsc_available(), "the shared sink_smsc.py")


def submit(i: int) -> SubmitSm:
    return SubmitSm(
        source_addr="Marconi",
        destination_addr=f"4915{i:08d}",
        short_message=b"hello %d" % i,
        registered_delivery=1,
    )


async def test_submits_and_receipts_are_correlated() -> None:
    receipts: list[str] = []

    async def on_deliver_sm(pdu: DeliverSm) -> int:
        receipts.append(pdu.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) or "")
        return 0

    async with (
        sink_smsc("--dlr") as sink,
        SmppClient(
            host="127.0.0.1",
            port=sink.port,
            system_id="acme",
            password="pw",
            on_deliver_sm=on_deliver_sm,
        ) as client,
    ):
        results = await client.submit_many([submit(i) for i in range(2000)])
        ids = {r.message_id for r in results if isinstance(r, SubmitSmResp)}
        assert len(ids) == 2000
        await eventually(lambda: len(receipts) >= 2000, within=10)
        assert set(receipts) == ids
    assert sink.summary()["total_submit_sm"] == "2000"
    assert sink.summary()["deliver_sm_resp"] == "2000"


async def test_injected_throttling_is_retried() -> None:
    async with (
        sink_smsc("--error-every", "5", "--error-status", "0x58") as sink,
        SmppClient(
            host="127.0.0.1",
            port=sink.port,
            system_id="acme",
            password="pw",
            throttle_backoff=Backoff(initial=0.001, maximum=0.01, jitter=0.0),
        ) as client,
    ):
        results = await client.submit_many([submit(i) for i in range(100)])
    assert all(isinstance(r, SubmitSmResp) for r in results), results
    assert int(sink.summary()["total_submit_sm"]) > 100


async def test_other_errors_are_surfaced() -> None:
    async with (
        sink_smsc("--error-every", "2", "--error-status", "0x0B") as sink,
        SmppClient(host="127.0.0.1", port=sink.port, system_id="acme", password="pw") as client,
    ):
        results = await client.submit_many([submit(i) for i in range(10)])
    errors = [r for r in results if isinstance(r, CommandStatusError)]
    assert len(errors) == 5
    assert {e.status for e in errors} == {CommandStatus.ESME_RINVDSTADR}
