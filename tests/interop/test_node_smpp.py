"""node-smpp (npm ``smpp`` 0.5.1) against Marconi, both ways.

- Marconi's ``SmppClient`` as the ESME of node-smpp's SMSC (``node/server.js``): the texts node-smpp
  records are decoded with independent codecs; node-smpp's receipts and MO messages come back
  through the client's hook.
- node-smpp's client (``node/client.js``) as the ESME of Marconi's ``SmppServer``: what the server's
  hooks receive reassembles to the texts node-smpp sent; the receipts and MO messages the server
  pushes are read back by node-smpp.
- node-smpp's client against the SMSC simulator: virtual handsets, receipts per part, MO.
- SMPP over TLS both ways, each side verifying the other's certificate chain.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from marconi.errors import ConnectError
from marconi.smpp import CommandStatus, DeliverSm, DeliverSmResp, SubmitSm, SubmitSmResp, Tag, Tlvs
from marconi.smpp.receipt import DeliveryReceipt, ReceiptStatus, receipt_pdu
from marconi.text import Concatenation, Reassembler, ReceivedPart, SarInfo, encode_message
from marconi.transport.client import SmppClient
from marconi.transport.server import BaseHandler, Bind, SmppServer, SmppSession
from marconi.transport.tls import client_ssl_context, server_ssl_context
from tests.integration.transport.certs import TlsFiles, make_tls_files
from tests.interop import pdus, peers
from tests.interop.peers import OutboundMessage
from tests.interop.simulated import simulator

pytestmark = [pytest.mark.interop, pytest.mark.usefixtures("node_smpp")]

GSM_SHORT = "Hello @ world {€} [ok] ~ £$¥ èé §"
GSM_LONG = "Long GSM text [with] escapes {€} and ~tilde~ | pipes. " * 5
UCS2_SHORT = "Привет, мир! 😀 日本語"
UCS2_LONG = "Ответ 😀 " * 12 + "终"
ESME_RBINDFAIL = 0x0D


class Inbox:
    """Collects deliver_sm the client hands to its hook."""

    def __init__(self) -> None:
        self.pdus: list[DeliverSm] = []
        self.changed = asyncio.Event()

    async def __call__(self, pdu: DeliverSm) -> int:
        self.pdus.append(pdu)
        self.changed.set()
        return 0

    async def wait(self, count: int, *, within: float = 10.0) -> list[DeliverSm]:
        async with asyncio.timeout(within):
            while len(self.pdus) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.pdus

    def receipts(self) -> list[DeliverSm]:
        return [p for p in self.pdus if p.esm_class & 0x3C == 0x04]

    def mobile_originated(self) -> list[DeliverSm]:
        return [p for p in self.pdus if p.esm_class & 0x3C == 0]


def submits_for(
    text: str,
    destination: str,
    *,
    reference: int,
    concatenation: Concatenation = Concatenation.UDH8,
    registered_delivery: int = 1,
) -> list[SubmitSm]:
    message = encode_message(text, concatenation=concatenation, reference=reference)
    submits = []
    for part in message.parts:
        tlvs: dict[int, int] = {}
        if part.sar is not None:
            tlvs = {
                Tag.SAR_MSG_REF_NUM: part.sar.sar_msg_ref_num,
                Tag.SAR_TOTAL_SEGMENTS: part.sar.sar_total_segments,
                Tag.SAR_SEGMENT_SEQNUM: part.sar.sar_segment_seqnum,
            }
        submits.append(
            SubmitSm(
                source_addr_ton=1,
                source_addr_npi=1,
                source_addr="15550000000",
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr=destination,
                esm_class=part.esm_class_bits,
                registered_delivery=registered_delivery,
                data_coding=part.data_coding,
                short_message=part.short_message,
                tlvs=Tlvs(tlvs),
            )
        )
    return submits


def reassemble(inbound: list[DeliverSm] | list[SubmitSm]) -> dict[str, str | None]:
    """Texts by source (MO) or destination (submits), through Marconi's reassembler."""
    reassembler = Reassembler(timeout=60)
    texts: dict[str, str | None] = {}
    for pdu in inbound:
        ref = pdu.tlvs.get_int(Tag.SAR_MSG_REF_NUM)
        sar = None
        if ref is not None:
            sar = SarInfo(
                sar_msg_ref_num=ref,
                sar_total_segments=pdu.tlvs.get_int(Tag.SAR_TOTAL_SEGMENTS) or 1,
                sar_segment_seqnum=pdu.tlvs.get_int(Tag.SAR_SEGMENT_SEQNUM) or 1,
            )
        whole = reassembler.add(
            ReceivedPart(
                source=pdu.source_addr,
                destination=pdu.destination_addr,
                short_message=pdu.short_message or (pdu.tlvs.get_bytes(Tag.MESSAGE_PAYLOAD) or b""),
                data_coding=pdu.data_coding,
                esm_class=pdu.esm_class,
                sar=sar,
            ),
            now=time.monotonic(),
        )
        if whole is not None:
            key = whole.source if isinstance(pdu, DeliverSm) else whole.destination
            texts[key] = whole.text
    return texts


async def test_marconi_client_submits_to_node_smpp_server_and_gets_receipts() -> None:
    sends = {
        "4915550001": submits_for(GSM_SHORT, "4915550001", reference=1),
        "4915550002": submits_for(GSM_LONG, "4915550002", reference=2),
        "4915550003": submits_for(UCS2_SHORT, "4915550003", reference=3),
        "4915550004": submits_for(
            UCS2_LONG, "4915550004", reference=4, concatenation=Concatenation.UDH16
        ),
        "4915550005": submits_for(
            GSM_LONG, "4915550005", reference=5, concatenation=Concatenation.SAR
        ),
    }
    texts = {
        "4915550001": GSM_SHORT,
        "4915550002": GSM_LONG,
        "4915550003": UCS2_SHORT,
        "4915550004": UCS2_LONG,
        "4915550005": GSM_LONG,
    }
    total = sum(len(s) for s in sends.values())
    inbox = Inbox()
    async with (
        peers.node_smpp_server(credentials={"marconi": "secret"}, id_format="hex") as smsc,
        SmppClient(
            host=peers.LOOPBACK,
            port=smsc.port,
            system_id="marconi",
            password="secret",
            on_deliver_sm=inbox,
            reconnect=False,
            response_timeout=5,
        ) as client,
    ):
        responses = await client.submit_many([pdu for parts in sends.values() for pdu in parts])
        receipts = await inbox.wait(total)
        recorded = pdus.node_messages(smsc.of("submit_sm"))

    message_ids = [r.message_id for r in responses if not isinstance(r, Exception)]
    assert len(message_ids) == total, responses
    assert message_ids == [e["assigned_message_id"] for e in smsc.of("submit_sm")]
    assert {to: m.text for to, m in recorded.items()} == texts
    assert [len(recorded[to].parts) for to in texts] == [len(sends[to]) for to in texts]
    assert {p.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) for p in receipts} == set(message_ids)
    assert {p.tlvs.get_int(Tag.MESSAGE_STATE) for p in receipts} == {2}
    bind = smsc.of("bind")[0]
    assert (bind["mode"], bind["system_id"], bind["password"]) == (
        "transceiver",
        "marconi",
        "secret",
    )
    assert smsc.of("unbind"), "the client unbinds on close"


async def test_marconi_client_receives_mo_from_node_smpp_server() -> None:
    mo = [
        OutboundMessage(destination_addr="15550000000", source_addr="4915550011", text=GSM_SHORT),
        OutboundMessage(
            destination_addr="15550000000",
            source_addr="4915550012",
            text=UCS2_LONG,
            coding="ucs2",
        ),
        OutboundMessage(
            destination_addr="15550000000",
            source_addr="4915550013",
            text=GSM_LONG,
            mode="udh16",
        ),
        OutboundMessage(
            destination_addr="15550000000",
            source_addr="4915550014",
            text=UCS2_LONG,
            coding="ucs2",
            mode="sar",
        ),
        OutboundMessage(
            destination_addr="15550000000",
            source_addr="4915550015",
            text=GSM_LONG,
            mode="payload",
        ),
    ]
    inbox = Inbox()
    async with (
        peers.node_smpp_server(mo_on_bind=mo) as smsc,
        SmppClient(
            host=peers.LOOPBACK,
            port=smsc.port,
            system_id="marconi",
            password="secret",
            on_deliver_sm=inbox,
            reconnect=False,
        ),
    ):
        batch = await smsc.wait_count("mo_batch_sent", 1)
        parts = int(batch[0]["parts"])
        await smsc.wait_count("mo_resp", parts)
        inbound = await inbox.wait(parts)

    assert all(e["command_status"] == 0 for e in smsc.of("mo_resp"))
    assert reassemble(inbound) == {
        "4915550011": GSM_SHORT,
        "4915550012": UCS2_LONG,
        "4915550013": GSM_LONG,
        "4915550014": UCS2_LONG,
        "4915550015": GSM_LONG,
    }


async def test_node_smpp_server_refuses_a_bad_password_and_marconi_reports_it() -> None:
    async with peers.node_smpp_server(credentials={"marconi": "secret"}) as smsc:
        client = SmppClient(
            host=peers.LOOPBACK,
            port=smsc.port,
            system_id="marconi",
            password="wrong",
            reconnect=False,
            connect_timeout=5,
            response_timeout=5,
        )
        with pytest.raises(ConnectError) as caught:
            await client.connect()
        await client.aclose()
    assert "BINDFAIL" in str(caught.value).upper()
    assert smsc.of("bind")[0]["status"] == ESME_RBINDFAIL


class RecordingSmsc(BaseHandler):
    """An SMSC built on Marconi's server: numbered ids, receipts when asked, MO on bind."""

    def __init__(self, *, password: str, mo: Sequence[tuple[str, str]] = ()) -> None:
        self.password = password
        self.mo = list(mo)
        self.submits: list[SubmitSm] = []
        self.message_ids: list[str] = []
        self.deliveries: list[asyncio.Future[DeliverSmResp]] = []

    async def authenticate(self, session: SmppSession, bind: Bind) -> int:
        ok = bind.password == self.password
        return CommandStatus.ESME_ROK if ok else CommandStatus.ESME_RINVPASWD

    async def session_bound(self, session: SmppSession) -> None:
        for reference, (source, text) in enumerate(self.mo, start=100):
            message = encode_message(text, reference=reference)
            for part in message.parts:
                pdu = DeliverSm(
                    source_addr_ton=1,
                    source_addr_npi=1,
                    source_addr=source,
                    dest_addr_ton=1,
                    dest_addr_npi=1,
                    destination_addr="15550000000",
                    esm_class=part.esm_class_bits,
                    data_coding=part.data_coding,
                    short_message=part.short_message,
                )
                self.deliveries.append(asyncio.ensure_future(session.deliver(pdu)))

    async def handle_submit_sm(self, session: SmppSession, pdu: SubmitSm) -> SubmitSmResp | int:
        message_id = f"{len(self.submits) + 1:08x}"
        self.submits.append(pdu)
        self.message_ids.append(message_id)
        if pdu.registered_delivery & 0x03:
            receipt = receipt_pdu(
                DeliveryReceipt(message_id=message_id, stat=ReceiptStatus.DELIVRD, sub=1),
                source_addr=pdu.destination_addr,
                destination_addr=pdu.source_addr,
                source_addr_ton=pdu.dest_addr_ton,
                source_addr_npi=pdu.dest_addr_npi,
                dest_addr_ton=pdu.source_addr_ton,
                dest_addr_npi=pdu.source_addr_npi,
            )
            self.deliveries.append(asyncio.ensure_future(session.deliver(receipt)))
        return SubmitSmResp(message_id=message_id)


async def test_node_smpp_client_submits_to_marconi_server() -> None:
    messages = [
        OutboundMessage(destination_addr="4915550001", text=GSM_SHORT, registered_delivery=1),
        OutboundMessage(destination_addr="4915550002", text=GSM_LONG, registered_delivery=1),
        OutboundMessage(
            destination_addr="4915550003", text=UCS2_SHORT, coding="ucs2", registered_delivery=1
        ),
        OutboundMessage(destination_addr="4915550004", text=UCS2_LONG, coding="ucs2", mode="udh16"),
        OutboundMessage(destination_addr="4915550005", text=GSM_LONG, mode="sar"),
        OutboundMessage(
            destination_addr="4915550006", text=UCS2_LONG, coding="ucs2", mode="payload"
        ),
    ]
    mo = [("4915550011", GSM_SHORT), ("4915550012", UCS2_LONG), ("4915550013", GSM_LONG)]
    handler = RecordingSmsc(password="secret", mo=mo)
    async with SmppServer(handler=handler, port=0, system_id="marconi") as server:
        # 1 + 3 + 1 receipts (registered_delivery on the first three texts) and 1 + 2 + 3 MO parts
        result = await peers.run_node_smpp_client(
            port=server.port, messages=messages, expect_deliver=5 + 6, linger_ms=100
        )
        assert result.finished, result.report()
        statuses = await asyncio.gather(*handler.deliveries)
    assert all(resp.command_status == 0 for resp in statuses)

    assert reassemble(handler.submits) == {
        "4915550001": GSM_SHORT,
        "4915550002": GSM_LONG,
        "4915550003": UCS2_SHORT,
        "4915550004": UCS2_LONG,
        "4915550005": GSM_LONG,
        "4915550006": UCS2_LONG,
    }
    returned = [r["message_id"] for r in result.of("submit_sm_resp")]
    assert sorted(returned) == sorted(handler.message_ids)
    receipts = result.receipts()
    assert len(receipts) == 5
    assert {r["receipted_message_id"] for r in receipts} <= set(returned)
    assert {r["message_state"] for r in receipts} == {2}
    assert all("stat:DELIVRD" in r["short_message"]["text"] for r in receipts)
    # node-smpp's own decoding and an independent one agree on what the server delivered
    inbound = pdus.node_messages(result.mobile_originated(), by="source_addr")
    assert {k: m.text for k, m in inbound.items()} == dict(mo)
    assert {e["short_message"]["text"] for e in result.mobile_originated()} >= {GSM_SHORT}


async def test_marconi_server_refuses_node_smpp_bad_password() -> None:
    handler = RecordingSmsc(password="secret")
    async with SmppServer(handler=handler, port=0) as server:
        result = await peers.run_node_smpp_client(port=server.port, password="wrong", within=5)
    assert result.bind_status == CommandStatus.ESME_RINVPASWD
    assert handler.submits == []


async def test_node_smpp_client_and_the_simulator() -> None:
    messages = [
        OutboundMessage(destination_addr="4915550001", text=GSM_SHORT, registered_delivery=1),
        OutboundMessage(destination_addr="4915550002", text=GSM_LONG, registered_delivery=1),
        OutboundMessage(
            destination_addr="4915550003", text=UCS2_LONG, coding="ucs2", registered_delivery=1
        ),
        OutboundMessage(
            destination_addr="4915550004", text=GSM_LONG, mode="udh16", registered_delivery=1
        ),
        OutboundMessage(
            destination_addr="4915550005",
            text=UCS2_LONG,
            coding="ucs2",
            mode="sar",
            registered_delivery=1,
        ),
        OutboundMessage(
            destination_addr="4915550006", text=GSM_LONG, mode="payload", registered_delivery=1
        ),
    ]
    mo = {"4915550011": UCS2_LONG, "4915550012": GSM_SHORT}
    mo_parts = sum(encode_message(text).segments for text in mo.values())
    async with simulator(accounts={"nodeclient": "secret"}) as smsc:
        client = asyncio.create_task(
            peers.run_node_smpp_client(
                port=smsc.port,
                messages=messages,
                # a receipt per part: 1 + 3 + 2 + 3 + 2 + 1
                expect_deliver=12 + mo_parts,
            )
        )
        for _ in range(500):
            if smsc.server.bound_sessions():
                break
            await asyncio.sleep(0.02)
        for source, text in mo.items():
            await smsc.inject_mo(source=source, destination="15550000000", text=text)
        result = await client
        handsets = {m.destination_addr: smsc.handset(m.destination_addr) for m in messages}

    assert result.finished, result.report()
    for index, message in enumerate(messages):
        [shown] = handsets[message.destination_addr]
        assert shown.text == message.text
        ids = [r["message_id"] for r in result.responses(index)]
        assert list(shown.message_ids) == ids
    receipted = {r["receipted_message_id"] for r in result.receipts()}
    assert receipted == {r["message_id"] for r in result.of("submit_sm_resp")}
    inbound = pdus.node_messages(result.mobile_originated(), by="source_addr")
    assert {k: m.text for k, m in inbound.items()} == mo


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


async def test_node_smpp_client_over_tls_to_marconi_server(tls_files: TlsFiles) -> None:
    handler = RecordingSmsc(password="secret")
    context = server_ssl_context(certfile=tls_files.cert, keyfile=tls_files.key)
    async with SmppServer(handler=handler, port=0, ssl=context) as server:
        result = await peers.run_node_smpp_client(
            port=server.port,
            messages=[
                OutboundMessage(
                    destination_addr="4915550001",
                    text=UCS2_LONG,
                    coding="ucs2",
                    registered_delivery=1,
                )
            ],
            expect_deliver=2,
            tls_ca=tls_files.ca_cert,
        )
        plain = await peers.run_node_smpp_client(port=server.port, within=3)
    assert result.finished, result.report()
    assert reassemble(handler.submits) == {"4915550001": UCS2_LONG}
    assert len(result.receipts()) == 2
    assert plain.bind_status is None  # a plaintext bind gets no answer from a TLS port


async def test_marconi_client_over_tls_to_node_smpp_server(tls_files: TlsFiles) -> None:
    inbox = Inbox()
    context = client_ssl_context(cafile=tls_files.ca_cert)
    async with (
        peers.node_smpp_server(tls_cert=tls_files.cert, tls_key=tls_files.key) as smsc,
        SmppClient(
            host=peers.LOOPBACK,
            port=smsc.port,
            system_id="marconi",
            password="secret",
            ssl=context,
            on_deliver_sm=inbox,
            reconnect=False,
            response_timeout=5,
        ) as client,
    ):
        responses = await client.submit_many(submits_for(GSM_LONG, "4915550001", reference=9))
        receipts = await inbox.wait(len(responses))
        recorded = pdus.node_messages(smsc.of("submit_sm"))
    assert recorded["4915550001"].text == GSM_LONG
    ids = {r.message_id for r in responses if isinstance(r, SubmitSmResp)}
    assert {p.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) for p in receipts} == ids
