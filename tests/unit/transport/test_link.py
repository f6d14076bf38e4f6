from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import LocalProtocolError
from marconi.smpp import (
    BindTransmitter,
    BindTransmitterResp,
    Role,
    SmppConnection,
    SubmitSm,
    decode,
    encode,
)
from marconi.transport.link import send_numbered, with_sequence_number


def bound_esme() -> SmppConnection:
    conn = SmppConnection(role=Role.ESME)
    conn.send(BindTransmitter(sequence_number=1, system_id="a", password="b"))
    conn.receive_data(encode(BindTransmitterResp(sequence_number=1, system_id="smsc")))
    assert conn.bound
    return conn


@given(seq=st.integers(2, 0x7FFFFFFF), text=st.binary(max_size=100))
def test_send_numbered_sends_the_number_and_leaves_the_pdu_alone(seq: int, text: bytes) -> None:
    conn = bound_esme()
    pdu = SubmitSm(source_addr="a", destination_addr="b", short_message=text)
    sent = decode(send_numbered(conn, pdu, seq))
    assert sent.sequence_number == seq
    assert sent == with_sequence_number(pdu, seq)
    assert pdu.sequence_number == 0
    assert seq in conn.window


def test_send_numbered_restores_the_pdu_when_sending_fails() -> None:
    conn = SmppConnection(role=Role.ESME)  # not bound: submit_sm is refused
    pdu = SubmitSm(source_addr="a", destination_addr="b")
    with pytest.raises(LocalProtocolError, match="cannot send"):
        send_numbered(conn, pdu, 7)
    assert pdu.sequence_number == 0


def test_with_sequence_number_copies() -> None:
    pdu = SubmitSm(source_addr="a", destination_addr="b", short_message=b"x")
    copy = with_sequence_number(pdu, 9)
    assert copy.sequence_number == 9
    assert pdu.sequence_number == 0
    assert copy.short_message == b"x"
    assert type(copy) is SubmitSm
