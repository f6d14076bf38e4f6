"""The peers themselves work: each is checked against another independent implementation.

These prove the launchers and scripts in ``peers.py`` and ``node/`` (and record the peers'
quirks), so that a failing Marconi interop test points at Marconi, not at the harness.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.interop import pdus, peers
from tests.interop.peers import OutboundMessage, SmpplibMessage

pytestmark = pytest.mark.interop

GSM_SHORT = "Hello @ world {€} [ok] ~ £$¥ èé"
GSM_LONG = "Long GSM text [with] escapes {€} and ~tilde~ | pipes. " * 5
UCS2_SHORT = "Привет, мир! 😀 日本語"
UCS2_LONG = "Ответ 😀 " * 12 + "终"


@pytest.mark.usefixtures("kannel_peer", "node_smpp")
async def test_kannel_submits_and_reports_through_node_smpp_server(tmp_path: Path) -> None:
    # An emoji at UTF-16 units 67-68 of a UCS-2 text: Kannel cuts parts at 134 octets.
    split_emoji = "Привет" + "я" * 60 + "😀" + "end"
    sends = {
        "+4915550001": (GSM_SHORT, None),
        "+4915550002": (GSM_LONG, None),
        "+4915550003": (UCS2_SHORT, 2),
        "+4915550004": (UCS2_LONG, 2),
        "+4915550005": (split_emoji, 2),
    }
    async with (
        peers.node_smpp_server() as smsc,
        peers.kannel(smsc_port=smsc.port, workdir=tmp_path / "kannel") as gateway,
    ):
        for to, (text, coding) in sends.items():
            reply = await gateway.sendsms(
                to=to, text=text, coding=coding, charset="UTF-8" if coding else None, tag=to
            )
            assert reply.accepted, reply
        for to in sends:
            await gateway.wait_delivery_reports(to, lambda r: any(d.type == 1 for d in r))

        received = pdus.node_messages(smsc.of("submit_sm"))
        for to, (text, coding) in sends.items():
            message = received[to.lstrip("+")]
            assert message.text == text
            assert message.data_coding == (8 if coding == 2 else 0)
        assert len(received["4915550002"].parts) == 3  # 310 septets, 153 a part
        assert len(received["4915550004"].parts) == 2
        # Kannel's quirk: UCS-2 parts are cut by octets, so a surrogate pair can straddle two.
        first = received["4915550005"].parts[0].body
        assert len(first) == 134
        assert 0xD8 <= first[-2] <= 0xDB

        # Receipts from node-smpp come back to the dlr-url, matched by message id.
        assigned = {e["assigned_message_id"] for e in smsc.of("submit_sm")}
        for to in sends:
            reports = gateway.delivery_reports(to)
            final = [d for d in reports if d.type == 1]
            assert len(final) == 1
            assert final[0].smsc_message_id in assigned
            assert pdus.receipt_fields(final[0].receipt_text)["stat"] == "DELIVRD"

        # And mobile-originated messages go the other way, concatenated ones reassembled.
        await smsc.deliver(
            [
                OutboundMessage(destination_addr="12345", source_addr="4915550009", text=GSM_SHORT),
                OutboundMessage(
                    destination_addr="12345",
                    source_addr="4915550009",
                    text=UCS2_LONG,
                    coding="ucs2",
                ),
            ]
        )
        mo = await gateway.wait_mobile_originated(2)
        assert sorted(m.text for m in mo) == sorted([GSM_SHORT, UCS2_LONG])
        assert {m.sender for m in mo} == {"+4915550009"}


@pytest.mark.usefixtures("kannel_peer", "shared_sink")
async def test_kannel_reports_receipts_of_sink_smsc(tmp_path: Path) -> None:
    async with (
        peers.sink_smsc("--dlr", "--id-format", "hex") as sink,
        peers.kannel(smsc_port=sink.port, workdir=tmp_path / "kannel") as gateway,
    ):
        reply = await gateway.sendsms(to="+4915550001", text="hello sink", tag="one")
        assert reply.accepted, reply
        reports = await gateway.wait_delivery_reports("one", lambda r: any(d.type == 1 for d in r))
    assert {d.type for d in reports} == {1, 8}
    assert sink.summary()["total_submit_sm"] == "1"
    assert sink.summary()["dlr_sent"] == "1"


@pytest.mark.usefixtures("node_smpp", "shared_sink")
async def test_node_smpp_client_against_sink_smsc() -> None:
    messages = [
        OutboundMessage(destination_addr="4915550001", text=GSM_SHORT, registered_delivery=1),
        OutboundMessage(destination_addr="4915550002", text=GSM_LONG, registered_delivery=1),
        OutboundMessage(
            destination_addr="4915550003", text=UCS2_LONG, coding="ucs2", registered_delivery=1
        ),
        OutboundMessage(
            destination_addr="4915550004", text=GSM_LONG, mode="payload", registered_delivery=1
        ),
    ]
    async with peers.sink_smsc("--dlr") as sink:
        result = await peers.run_node_smpp_client(
            port=sink.port, messages=messages, expect_deliver=7
        )
    assert result.finished, result.report()
    assert result.bind_status == 0
    assert [len(result.responses(i)) for i in range(4)] == [1, 3, 2, 1]
    ids = [r["message_id"] for r in result.of("submit_sm_resp")]
    assert all(r["command_status"] == 0 for r in result.of("submit_sm_resp"))
    assert len(set(ids)) == 7
    assert {r["receipted_message_id"] for r in result.receipts()} == set(ids)
    assert sink.summary()["total_submit_sm"] == "7"


@pytest.mark.usefixtures("node_smpp")
async def test_node_smpp_client_and_server_exchange_texts_both_ways() -> None:
    submits = [
        OutboundMessage(destination_addr="4915550001", text=GSM_SHORT, registered_delivery=1),
        OutboundMessage(destination_addr="4915550002", text=GSM_LONG, mode="udh16"),
        OutboundMessage(destination_addr="4915550003", text=UCS2_LONG, coding="ucs2", mode="sar"),
    ]
    mo = [
        OutboundMessage(
            destination_addr="15550000000", source_addr="4915550009", text=UCS2_LONG, coding="ucs2"
        ),
    ]
    async with peers.node_smpp_server(mo_on_bind=mo) as smsc:
        result = await peers.run_node_smpp_client(
            port=smsc.port, messages=submits, expect_deliver=3, linger_ms=100
        )
        assert result.finished, result.report()
        received = pdus.node_messages(smsc.of("submit_sm"))
    assert {to: m.text for to, m in received.items()} == {
        "4915550001": GSM_SHORT,
        "4915550002": GSM_LONG,
        "4915550003": UCS2_LONG,
    }
    assert len(result.receipts()) == 1
    inbound = pdus.node_messages(result.mobile_originated())
    assert inbound["15550000000"].text == UCS2_LONG


@pytest.mark.usefixtures("node_smpp")
async def test_smpplib_client_against_node_smpp_server() -> None:
    # smpplib splits by octets: keep escape pairs away from its 153-octet boundaries.
    long_gsm = "smpplib long message, part after part. " * 6
    messages = [
        SmpplibMessage(destination_addr="4915550001", text="Hello @ world {€}"),
        SmpplibMessage(destination_addr="4915550002", text=long_gsm),
        SmpplibMessage(destination_addr="4915550003", text=UCS2_SHORT, ucs2=True),
    ]
    async with peers.node_smpp_server(credentials={"smpplib": "secret"}) as smsc:
        result = await asyncio.to_thread(
            peers.run_smpplib_client, port=smsc.port, messages=messages, expect_deliver=4
        )
        assert result.error is None, smsc.report()
        received = pdus.node_messages(smsc.of("submit_sm"))
        refused = await asyncio.to_thread(
            peers.run_smpplib_client, port=smsc.port, password="wrong", timeout=5
        )
    assert result.bind_status == 0
    assert {to: m.text for to, m in received.items()} == {
        "4915550001": "Hello @ world {€}",
        "4915550002": long_gsm,
        "4915550003": UCS2_SHORT,
    }
    assert len(received["4915550002"].parts) == 2
    ids = {mid for i in range(3) for mid in result.message_ids(i)}
    assert len(ids) == 4
    assert {d["receipted_message_id"] for d in result.receipts()} == ids
    assert refused.bind_status == 0x0D  # ESME_RBINDFAIL


@pytest.mark.usefixtures("node_smpp", "shared_sink")
async def test_smpp_blast_against_node_smpp_server() -> None:
    # No receipts asked: smpp_blast stops reading once its submits are answered.
    async with peers.node_smpp_server() as smsc:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(peers.SHARED_TOOLS / "smpp_blast.py"),
            "--port",
            str(smsc.port),
            "-n",
            "200",
            "--window",
            "20",
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(), 20)
        finally:
            await peers.stop_process(process)
        await smsc.wait_count("submit_sm", 200)
    assert "ok=200 err=0" in out.decode()
    destinations = {e["destination_addr"] for e in smsc.of("submit_sm")}
    assert len(destinations) == 200
    assert smsc.of("receipt_sent") == []
