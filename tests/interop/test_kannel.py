"""Debian's Kannel (bearerbox + smsbox) bound to Marconi's SMSC simulator.

Messages go in through Kannel's sendsms HTTP interface; Kannel splits and encodes them its own
way and submits them over its SMPP transceiver bind. The simulator's virtual handsets must show
exactly the texts that went in, and the simulator's receipts must reach the dlr-url through
Kannel's DLR matching. MO messages injected into the simulator must reach Kannel's sms-service.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from marconi.simulator.message_id import IdFormat
from tests.interop import pdus, peers
from tests.interop.simulated import REFUSED, UNDELIVERABLE, marconi_smsc, simulator

pytestmark = [pytest.mark.interop, pytest.mark.usefixtures("kannel_peer")]

GSM_SHORT = "Hello @ world {€} [ok] ~ £$¥ èé"
GSM_LONG = "Long GSM text [with] escapes {€} and ~tilde~ | pipes. " * 5
UCS2_SHORT = "Привет, мир! 😀 日本語"
UCS2_LONG = "Ответ 😀 Ελληνικά ✓ " * 6 + "终"
# Kannel cuts UCS-2 parts at 134 octets: this emoji's surrogate pair straddles parts 1 and 2.
SPLIT_EMOJI = "Привет" + "я" * 60 + "😀" + " end"

DLR_DELIVERED, DLR_FAILED, DLR_SMSC_ACK, DLR_SMSC_REJECT = 1, 2, 8, 16


async def test_kannel_submits_through_the_simulator_and_gets_receipts(tmp_path: Path) -> None:
    sends = {
        "4915550001": (GSM_SHORT, None),
        "4915550002": (GSM_LONG, None),
        "4915550003": (UCS2_SHORT, 2),
        "4915550004": (UCS2_LONG, 2),
        "4915550005": (SPLIT_EMOJI, 2),
    }
    async with (
        simulator(accounts={"kannel": "secret"}, id_format=IdFormat.HEX) as smsc,
        peers.kannel(smsc_port=smsc.port, workdir=tmp_path / "kannel") as gateway,
    ):
        for number, (text, coding) in sends.items():
            reply = await gateway.sendsms(
                to="+" + number,
                text=text,
                coding=coding,
                charset="UTF-8" if coding else None,
                tag=number,
            )
            assert reply.accepted, reply
        for number in sends:
            await gateway.wait_delivery_reports(
                number, lambda reports: any(r.type == DLR_DELIVERED for r in reports)
            )
        handsets = {number: smsc.handset(number) for number in sends}

        for number, (text, coding) in sends.items():
            [shown] = handsets[number]
            assert shown.text == text, gateway.logs()
            assert shown.complete
            assert shown.data_coding == (8 if coding else 0)
            [final] = [r for r in gateway.delivery_reports(number) if r.type == DLR_DELIVERED]
            # Kannel asks for a receipt on the first part only and reports the message with it
            assert final.smsc_message_id == shown.message_ids[0]
            fields = pdus.receipt_fields(final.receipt_text)
            assert (fields["id"], fields["stat"]) == (shown.message_ids[0], "DELIVRD")
        assert [len(handsets[n][0].message_ids) for n in sends] == [1, 3, 1, 2, 2]


async def test_kannel_reports_failures_from_the_simulator(tmp_path: Path) -> None:
    async with (
        simulator() as smsc,
        peers.kannel(smsc_port=smsc.port, workdir=tmp_path / "kannel") as gateway,
    ):
        for number in (UNDELIVERABLE, REFUSED):
            reply = await gateway.sendsms(to="+" + number, text="bad luck", tag=number)
            assert reply.accepted, reply
        failed = await gateway.wait_delivery_reports(
            UNDELIVERABLE, lambda reports: any(r.type == DLR_FAILED for r in reports)
        )
        refused = await gateway.wait_delivery_reports(
            REFUSED, lambda reports: any(r.type == DLR_SMSC_REJECT for r in reports)
        )
    [final] = [r for r in failed if r.type == DLR_FAILED]
    fields = pdus.receipt_fields(final.receipt_text)
    assert (fields["stat"], fields["err"]) == ("UNDELIV", "001")
    assert [r.type for r in refused] == [DLR_SMSC_REJECT]
    assert "0x0000000b" in refused[0].receipt_text.lower()


async def test_kannel_receives_mo_from_the_simulator(tmp_path: Path) -> None:
    texts = {
        "4915550011": (GSM_SHORT, "udh8"),
        "4915550012": (UCS2_LONG, "udh8"),
        "4915550013": (GSM_LONG, "udh16"),
        "4915550014": (UCS2_LONG, "sar"),
    }
    async with (
        simulator() as smsc,
        peers.kannel(smsc_port=smsc.port, workdir=tmp_path / "kannel") as gateway,
    ):
        for source, (text, concatenation) in texts.items():
            await smsc.inject_mo(
                source=source, destination="12345", text=text, concatenation=concatenation
            )
        received = await gateway.wait_mobile_originated(len(texts))
        handset = smsc.handset("4915550012")
    assert {m.sender: m.text for m in received} == {"+" + s: t for s, (t, _) in texts.items()}
    assert {m.receiver for m in received} == {"12345"}
    assert [(m.direction, m.text) for m in handset] == [("sent", UCS2_LONG)]


async def test_kannel_with_the_marconi_smsc_command(tmp_path: Path) -> None:
    """The standalone main job, ``marconi smsc``, as Kannel's SMSC, read through its admin port."""
    async with (
        marconi_smsc(
            "--system-id", "kannel", "--password", "secret", "--dlr-latency", "fixed:0.05",
            workdir=tmp_path,
        ) as smsc,
        peers.kannel(smsc_port=smsc.port, workdir=tmp_path / "kannel") as gateway,
    ):  # fmt: skip
        reply = await gateway.sendsms(
            to="+4915550001", text=UCS2_LONG, coding=2, charset="UTF-8", tag="long"
        )
        assert reply.accepted, reply
        reports = await gateway.wait_delivery_reports(
            "long", lambda reports: any(r.type == DLR_DELIVERED for r in reports)
        )
        handset = await smsc.admin("handset 4915550001")
        assert isinstance(handset, list)
        [shown] = handset
        await smsc.admin(
            {"cmd": "mo", "source": "4915550011", "destination": "12345", "text": GSM_LONG}
        )
        [mo] = await gateway.wait_mobile_originated(1)
    assert shown["text"] == UCS2_LONG
    assert shown["state"] == "DELIVRD"
    [final] = [r for r in reports if r.type == DLR_DELIVERED]
    assert final.smsc_message_id == shown["message_ids"][0]
    assert (mo.sender, mo.text) == ("+4915550011", GSM_LONG)
    assert smsc.process.returncode == 0
