from __future__ import annotations

import dataclasses
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marconi.errors import LocalProtocolError, WindowFull
from marconi.smpp import (
    BOUND_STATES,
    MAX_SEQUENCE_NUMBER,
    PDU_CLASSES,
    RESPONSE_OF,
    TRANSITIONS,
    AlertNotification,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    CommandId,
    CommandStatus,
    ConnectionClosed,
    DeliverSm,
    DeliverSmResp,
    EncodedDeliverSm,
    EnquireLink,
    EnquireLinkResp,
    Event,
    FramingError,
    GenericNack,
    InvalidPdu,
    Outbind,
    Pdu,
    ProtocolViolation,
    QuerySm,
    ResponseTimedOut,
    Role,
    SessionState,
    SmppConnection,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    UnexpectedPdu,
    decode,
    encode,
)
from marconi.smpp.testing import ConnectionPair, FakeClock

from .strategies import any_pdu


def _decode_all(data: bytes) -> list[Pdu]:
    out = []
    while data:
        (length,) = struct.unpack_from(">I", data)
        out.append(decode(data[:length]))
        data = data[length:]
    return out


def _submit(conn: SmppConnection, **fields: object) -> SubmitSm:
    return SubmitSm(
        sequence_number=conn.next_sequence_number(),
        destination_addr="447700900123",
        short_message=b"hi",
        **fields,  # type: ignore[arg-type]
    )


# --- binding -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bind", "state"),
    [
        (BindTransmitter(system_id="a"), SessionState.BOUND_TX),
        (BindReceiver(system_id="a"), SessionState.BOUND_RX),
        (BindTransceiver(system_id="a"), SessionState.BOUND_TRX),
    ],
)
def test_bind_moves_both_sides_to_the_bound_state(
    bind: BindTransmitter | BindReceiver | BindTransceiver, state: SessionState
) -> None:
    pair = ConnectionPair()
    response = pair.bind(bind, system_id="SIM")
    assert response.ok
    assert getattr(response, "system_id") == "SIM"  # noqa: B009
    assert pair.esme.state is state
    assert pair.smsc.state is state
    assert pair.esme.bound
    assert pair.esme.outstanding == 0


def test_refused_bind_leaves_the_session_open_for_another_try() -> None:
    pair = ConnectionPair()
    bind = BindTransmitter(sequence_number=1, system_id="a", password="wrong")
    events = pair.send(pair.esme, bind)
    assert events == [bind]
    refusal = BindTransmitterResp(sequence_number=1, command_status=CommandStatus.ESME_RINVPASWD)
    assert pair.send(pair.smsc, refusal) == [refusal]
    assert pair.esme.state is SessionState.OPEN
    assert pair.smsc.state is SessionState.OPEN
    assert pair.bind(BindTransmitter(system_id="a")).ok
    assert pair.esme.state is SessionState.BOUND_TX


def test_outbind_then_bind_receiver() -> None:
    pair = ConnectionPair()
    outbind = Outbind(sequence_number=1, system_id="smsc", password="pw")
    assert pair.send(pair.smsc, outbind) == [outbind]
    assert pair.esme.state is SessionState.OUTBOUND
    assert pair.smsc.state is SessionState.OUTBOUND
    bind = BindReceiver(sequence_number=pair.esme.next_sequence_number(), system_id="e")
    pair.send(pair.esme, bind)
    pair.send(pair.smsc, BindReceiverResp(sequence_number=bind.sequence_number))
    assert pair.esme.state is SessionState.BOUND_RX
    assert pair.smsc.state is SessionState.BOUND_RX


def test_second_bind_is_answered_already_bound() -> None:
    pair = ConnectionPair()
    pair.bind()
    pair.smsc.receive_data(encode(BindTransceiver(sequence_number=50)))
    [answer] = _decode_all(pair.smsc.data_to_send())
    assert answer == BindTransceiverResp(
        sequence_number=50, command_status=CommandStatus.ESME_RALYBND
    )
    [violation] = pair.smsc.events()
    assert isinstance(violation, ProtocolViolation)
    assert pair.smsc.state is SessionState.BOUND_TRX


# --- submitting and delivering -------------------------------------------------------------------


def test_submit_and_response() -> None:
    pair = ConnectionPair()
    pair.bind(BindTransmitter(system_id="a"))
    submit = _submit(pair.esme)
    assert pair.send(pair.esme, submit) == [submit]
    assert pair.esme.outstanding == 1
    assert pair.smsc.peer_outstanding == 1
    response = SubmitSmResp(sequence_number=submit.sequence_number, message_id="m1")
    assert pair.send(pair.smsc, response) == [response]
    assert pair.esme.outstanding == 0
    assert pair.smsc.peer_outstanding == 0


def test_send_with_an_assigned_sequence_number() -> None:
    pair = ConnectionPair()
    pair.bind()
    template = SubmitSm(destination_addr="1", short_message=b"x")
    seq = pair.esme.next_sequence_number()
    data = pair.esme.send(template, sequence_number=seq)
    assert pair.esme.last_sequence_number == seq
    assert decode(data) == SubmitSm(sequence_number=seq, destination_addr="1", short_message=b"x")
    assert seq in pair.esme.window


def test_deliver_sm_on_transceiver() -> None:
    pair = ConnectionPair()
    pair.bind()
    deliver = DeliverSm(
        sequence_number=pair.smsc.next_sequence_number(), source_addr="1", short_message=b"MO"
    )
    assert pair.send(pair.smsc, deliver) == [deliver]
    response = DeliverSmResp(sequence_number=deliver.sequence_number)
    assert pair.send(pair.esme, response) == [response]
    assert pair.smsc.outstanding == 0


def test_submit_before_bind_is_refused_locally() -> None:
    conn = SmppConnection(role=Role.ESME)
    with pytest.raises(LocalProtocolError, match="submit_sm"):
        conn.send(SubmitSm(sequence_number=1))
    assert conn.state is SessionState.OPEN
    assert conn.outstanding == 0


def test_submit_before_bind_is_answered_invalid_bind_status_by_the_smsc() -> None:
    smsc = SmppConnection(role=Role.SMSC)
    smsc.receive_data(encode(SubmitSm(sequence_number=9)))
    [answer] = _decode_all(smsc.data_to_send())
    assert answer == SubmitSmResp(sequence_number=9, command_status=CommandStatus.ESME_RINVBNDSTS)
    [event] = smsc.events()
    assert isinstance(event, ProtocolViolation)
    assert isinstance(event.error, UnexpectedPdu)
    assert event.error.sequence_number == 9
    assert event.error.status == CommandStatus.ESME_RINVBNDSTS
    assert smsc.state is SessionState.OPEN


def test_deliver_sm_to_a_transmitter_bind_is_refused() -> None:
    pair = ConnectionPair()
    pair.bind(BindTransmitter(system_id="a"))
    with pytest.raises(LocalProtocolError):
        pair.smsc.send(DeliverSm(sequence_number=1))
    pair.esme.receive_data(encode(DeliverSm(sequence_number=1)))
    [answer] = _decode_all(pair.esme.data_to_send())
    assert answer == DeliverSmResp(sequence_number=1, command_status=CommandStatus.ESME_RINVBNDSTS)


def test_command_the_peer_role_never_sends_gets_generic_nack() -> None:
    esme = SmppConnection(role=Role.ESME)
    esme.receive_data(encode(SubmitSm(sequence_number=4)))
    [answer] = _decode_all(esme.data_to_send())
    assert answer == GenericNack(sequence_number=4, command_status=CommandStatus.ESME_RINVCMDID)


def test_responses_only_for_outstanding_peer_requests() -> None:
    pair = ConnectionPair()
    pair.bind()
    with pytest.raises(LocalProtocolError, match="sequence_number 77"):
        pair.smsc.send(SubmitSmResp(sequence_number=77))
    submit = _submit(pair.esme)
    pair.send(pair.esme, submit)
    with pytest.raises(LocalProtocolError):
        pair.smsc.send(DeliverSmResp(sequence_number=submit.sequence_number))
    # generic_nack may answer any outstanding request
    nack = GenericNack(
        sequence_number=submit.sequence_number, command_status=CommandStatus.ESME_RSYSERR
    )
    assert pair.send(pair.smsc, nack) == [nack]
    assert pair.esme.outstanding == 0
    with pytest.raises(LocalProtocolError):
        pair.smsc.send(SubmitSmResp(sequence_number=submit.sequence_number))


def test_duplicate_sequence_numbers_from_the_peer_are_each_answerable() -> None:
    pair = ConnectionPair()
    pair.bind()
    raw = encode(SubmitSm(sequence_number=5))
    pair.smsc.receive_data(raw + raw)
    assert len(pair.smsc.events()) == 2
    assert pair.smsc.peer_outstanding == 2
    pair.smsc.send(SubmitSmResp(sequence_number=5))
    pair.smsc.send(SubmitSmResp(sequence_number=5))
    assert pair.smsc.peer_outstanding == 0
    with pytest.raises(LocalProtocolError):
        pair.smsc.send(SubmitSmResp(sequence_number=5))


def test_receive_window_throttles_the_peer() -> None:
    smsc = SmppConnection(role=Role.SMSC, receive_window=2)
    smsc.receive_data(encode(BindTransmitter(sequence_number=1)))
    smsc.send(BindTransmitterResp(sequence_number=1))
    smsc.events()
    smsc.receive_data(b"".join(encode(SubmitSm(sequence_number=n)) for n in (2, 3, 4)))
    events = smsc.events()
    assert [type(e) for e in events] == [SubmitSm, SubmitSm, ProtocolViolation]
    [answer] = _decode_all(smsc.data_to_send())
    assert answer == SubmitSmResp(sequence_number=4, command_status=CommandStatus.ESME_RTHROTTLED)


# --- the window ----------------------------------------------------------------------------------


def test_window_full_raises_and_frees_on_response() -> None:
    pair = ConnectionPair(window=2)
    pair.bind()
    first, second = _submit(pair.esme), _submit(pair.esme)
    pair.send(pair.esme, first)
    pair.send(pair.esme, second)
    third = _submit(pair.esme)
    with pytest.raises(WindowFull) as info:
        pair.esme.send(third)
    assert info.value.window == 2
    assert pair.esme.outstanding == 2
    pair.send(pair.smsc, SubmitSmResp(sequence_number=first.sequence_number))
    assert pair.esme.window.free == 1
    pair.send(pair.esme, third)
    assert pair.esme.outstanding == 2


def test_duplicate_outstanding_sequence_number_is_refused() -> None:
    pair = ConnectionPair()
    pair.bind()
    pair.esme.send(SubmitSm(sequence_number=10))
    with pytest.raises(LocalProtocolError, match="already outstanding"):
        pair.esme.send(SubmitSm(sequence_number=10))
    assert pair.esme.outstanding == 1


@pytest.mark.parametrize("seq", [0, MAX_SEQUENCE_NUMBER + 1])
def test_request_sequence_number_range(seq: int) -> None:
    pair = ConnectionPair()
    pair.bind()
    with pytest.raises(LocalProtocolError, match="outside"):
        pair.esme.send(SubmitSm(sequence_number=seq))


def test_response_to_unknown_sequence_number_is_reported_and_dropped() -> None:
    pair = ConnectionPair()
    pair.bind()
    pair.esme.receive_data(encode(SubmitSmResp(sequence_number=12345)))
    [event] = pair.esme.events()
    assert isinstance(event, ProtocolViolation)
    assert event.error.sequence_number == 12345  # type: ignore[attr-defined]
    assert pair.esme.state is SessionState.BOUND_TRX
    assert pair.esme.data_to_send() == b""


def test_response_of_the_wrong_type_keeps_the_request_outstanding() -> None:
    pair = ConnectionPair()
    pair.bind()
    submit = _submit(pair.esme)
    pair.esme.send(submit)
    pair.esme.receive_data(encode(DeliverSmResp(sequence_number=submit.sequence_number)))
    [event] = pair.esme.events()
    assert isinstance(event, ProtocolViolation)
    assert pair.esme.outstanding == 1
    pair.esme.receive_data(encode(SubmitSmResp(sequence_number=submit.sequence_number)))
    assert pair.esme.events() == [SubmitSmResp(sequence_number=submit.sequence_number)]


def test_next_sequence_number_wraps_and_skips_outstanding() -> None:
    pair = ConnectionPair()
    pair.bind()
    conn = pair.esme
    conn._sequence_number = MAX_SEQUENCE_NUMBER - 1
    assert conn.next_sequence_number() == MAX_SEQUENCE_NUMBER
    conn.send(SubmitSm(sequence_number=1))
    assert conn.next_sequence_number() == 2


# --- timers --------------------------------------------------------------------------------------


def test_response_timeout_fires_from_the_clock_and_late_response_is_dropped() -> None:
    clock = FakeClock()
    pair = ConnectionPair(clock=clock, response_timeout=10.0)
    pair.bind()
    submit = _submit(pair.esme)
    pair.send(pair.esme, submit)
    assert pair.esme.next_deadline() == clock.now + 10.0
    pair.tick(9.9)
    assert pair.esme.events() == []
    pair.tick(0.1)
    assert pair.esme.events() == [ResponseTimedOut(submit.sequence_number, CommandId.SUBMIT_SM)]
    assert pair.esme.outstanding == 0
    [late] = pair.send(pair.smsc, SubmitSmResp(sequence_number=submit.sequence_number))
    assert isinstance(late, ProtocolViolation)


def test_enquire_link_is_sent_when_idle_and_answered_automatically() -> None:
    clock = FakeClock()
    pair = ConnectionPair(clock=clock, enquire_link_interval=30.0)
    pair.bind()
    pair.smsc._enquire_link_interval = None  # only the ESME keeps the link alive here
    pair.esme.tick()
    assert pair.esme.data_to_send() == b""
    clock.advance(30.0)
    pair.esme.tick()
    [probe] = _decode_all(pair.esme.data_to_send())
    assert isinstance(probe, EnquireLink)
    assert pair.esme.outstanding == 1
    pair.smsc.receive_data(encode(probe))
    assert pair.smsc.events() == [probe]
    answer = pair.smsc.data_to_send()
    assert decode(answer) == EnquireLinkResp(sequence_number=probe.sequence_number)
    pair.esme.receive_data(answer)
    assert pair.esme.events() == []  # the automatic answer is consumed
    assert pair.esme.outstanding == 0
    # only one probe at a time, and none while traffic flows
    clock.advance(10.0)
    pair.esme.tick()
    assert pair.esme.data_to_send() == b""


def test_unanswered_enquire_link_times_out() -> None:
    clock = FakeClock()
    esme = SmppConnection(
        role=Role.ESME, clock=clock, response_timeout=5.0, enquire_link_interval=30.0
    )
    esme.send(BindTransmitter(sequence_number=1))
    esme.receive_data(encode(BindTransmitterResp(sequence_number=1)))
    assert esme.events() == [BindTransmitterResp(sequence_number=1)]
    clock.advance(30.0)
    esme.tick()
    probe = decode(esme.data_to_send())
    assert esme.next_deadline() == clock.now + 5.0
    clock.advance(5.0)
    esme.tick()
    assert esme.events() == [ResponseTimedOut(probe.sequence_number, CommandId.ENQUIRE_LINK)]


def test_app_enquire_link_response_is_reported() -> None:
    pair = ConnectionPair()
    pair.bind()
    probe = EnquireLink(sequence_number=pair.esme.next_sequence_number())
    pair.send(pair.esme, probe)
    assert pair.esme.events() == [EnquireLinkResp(sequence_number=probe.sequence_number)]


# --- ending --------------------------------------------------------------------------------------


def test_unbind_closes_both_sides() -> None:
    pair = ConnectionPair()
    pair.bind()
    unbind = Unbind(sequence_number=pair.esme.next_sequence_number())
    data = pair.esme.send(unbind)
    assert pair.esme.state is SessionState.UNBOUND
    pair.smsc.receive_data(data)
    assert pair.smsc.events() == [unbind, ConnectionClosed("the peer unbound")]
    assert pair.smsc.state is SessionState.CLOSED
    pair.esme.receive_data(pair.smsc.data_to_send())
    events = pair.esme.events()
    assert events[0] == UnbindResp(sequence_number=unbind.sequence_number)
    assert isinstance(events[1], ConnectionClosed)
    assert pair.esme.state is SessionState.CLOSED


def test_responses_still_flow_while_unbinding() -> None:
    pair = ConnectionPair()
    pair.bind()
    submit = _submit(pair.esme)
    pair.send(pair.esme, submit)
    pair.esme.send(Unbind(sequence_number=pair.esme.next_sequence_number()))
    with pytest.raises(LocalProtocolError):
        pair.esme.send(_submit(pair.esme))
    pair.esme.receive_data(encode(SubmitSmResp(sequence_number=submit.sequence_number)))
    assert pair.esme.events() == [SubmitSmResp(sequence_number=submit.sequence_number)]


def test_eof_closes() -> None:
    conn = SmppConnection(role=Role.ESME)
    conn.receive_data(encode(EnquireLink(sequence_number=1))[:7])
    conn.events()
    conn.receive_data(b"")
    [event] = conn.events()
    assert isinstance(event, ConnectionClosed)
    assert "middle of a PDU" in event.reason
    assert conn.state is SessionState.CLOSED
    conn.receive_data(encode(EnquireLink(sequence_number=2)))
    assert conn.events() == []
    with pytest.raises(LocalProtocolError):
        conn.send(BindTransmitter(sequence_number=3))


def test_close_locally_reports_once() -> None:
    conn = SmppConnection(role=Role.SMSC)
    conn.close()
    conn.close()
    assert conn.events() == [ConnectionClosed("closed locally")]
    conn.tick()
    assert conn.next_deadline() is None


# --- malformed input -----------------------------------------------------------------------------


def test_broken_framing_is_nacked_and_closes() -> None:
    smsc = SmppConnection(role=Role.SMSC, max_command_length=1000)
    smsc.receive_data(struct.pack(">IIII", 5000, 4, 0, 33))
    [answer] = _decode_all(smsc.data_to_send())
    assert answer == GenericNack(sequence_number=33, command_status=CommandStatus.ESME_RINVCMDLEN)
    [event] = smsc.events()
    assert isinstance(event, ConnectionClosed)
    assert isinstance(event.error, FramingError)
    assert smsc.state is SessionState.CLOSED


def test_undecodable_pdus_are_answered_and_the_session_goes_on() -> None:
    pair = ConnectionPair()
    pair.bind()
    unknown = struct.pack(">IIII", 16, 0x00000099, 0, 40)
    good = encode(SubmitSm(sequence_number=41, short_message=b"abc"))
    overrun = good[:-4] + b"\x09" + good[-3:]
    overrun = overrun[:12] + struct.pack(">I", 42) + overrun[16:]
    pair.smsc.receive_data(unknown + overrun + encode(SubmitSm(sequence_number=43)))
    answers = _decode_all(pair.smsc.data_to_send())
    assert answers == [
        GenericNack(sequence_number=40, command_status=CommandStatus.ESME_RINVCMDID),
        SubmitSmResp(sequence_number=42, command_status=CommandStatus.ESME_RINVMSGLEN),
    ]
    events = pair.smsc.events()
    assert [type(e) for e in events] == [ProtocolViolation, ProtocolViolation, SubmitSm]
    assert isinstance(events[0], ProtocolViolation)
    assert isinstance(events[0].error, InvalidPdu)
    assert pair.smsc.state is SessionState.BOUND_TRX


def test_unreadable_response_keeps_its_request_outstanding() -> None:
    pair = ConnectionPair()
    pair.bind()
    submit = _submit(pair.esme)
    pair.esme.send(submit)
    broken = struct.pack(">IIII", 20, CommandId.SUBMIT_SM_RESP, 0, submit.sequence_number)
    pair.esme.receive_data(broken + b"\x00\x14\x01\x00")  # a message_id, then a cut TLV
    [event] = pair.esme.events()
    assert isinstance(event, ProtocolViolation)
    assert pair.esme.outstanding == 1
    assert pair.esme.data_to_send() == b""


def test_unexpected_alert_notification_closes() -> None:
    pair = ConnectionPair()
    pair.bind(BindTransmitter(system_id="a"))
    pair.esme.receive_data(encode(AlertNotification(sequence_number=3)))
    [event] = pair.esme.events()
    assert isinstance(event, ConnectionClosed)
    assert isinstance(event.error, UnexpectedPdu)


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="window"):
        SmppConnection(role=Role.ESME, window=0)
    with pytest.raises(ValueError, match="response_timeout"):
        SmppConnection(role=Role.ESME, response_timeout=0)
    with pytest.raises(ValueError, match="enquire_link_interval"):
        SmppConnection(role=Role.ESME, enquire_link_interval=-1)
    with pytest.raises(ValueError, match="receive_window"):
        SmppConnection(role=Role.ESME, receive_window=0)


# --- closure of the state machine ----------------------------------------------------------------


def _connection_in(state: SessionState, role: Role) -> SmppConnection:
    pair = ConnectionPair()
    conn = pair.esme if role is Role.ESME else pair.smsc
    if state is SessionState.OUTBOUND:
        pair.send(pair.smsc, Outbind(sequence_number=1))
    elif state is SessionState.BOUND_TX:
        pair.bind(BindTransmitter(system_id="a"))
    elif state is SessionState.BOUND_RX:
        pair.bind(BindReceiver(system_id="a"))
    elif state in (SessionState.BOUND_TRX, SessionState.UNBOUND):
        pair.bind(BindTransceiver(system_id="a"))
        if state is SessionState.UNBOUND:
            conn.send(Unbind(sequence_number=conn.next_sequence_number()))
    elif state is SessionState.CLOSED:
        conn.close()
    conn.events()
    conn.data_to_send()
    assert conn.state is state
    return conn


ALL_CASES = [(state, role) for state in SessionState for role in Role]


@pytest.mark.parametrize(("state", "role"), ALL_CASES, ids=lambda v: v.name)
def test_every_local_input_transitions_per_table_or_raises(state: SessionState, role: Role) -> None:
    for command_id, cls in PDU_CLASSES.items():
        conn = _connection_in(state, role)
        before = conn.outstanding
        pdu = cls(sequence_number=900)
        expected = TRANSITIONS.get((state, role, command_id))
        if expected is None or command_id & 0x80000000:
            # responses need an outstanding peer request; none is pending here
            with pytest.raises(LocalProtocolError):
                conn.send(pdu)
            assert conn.state is state, cls.__name__
            assert conn.outstanding == before
        else:
            conn.send(pdu)
            assert conn.state is expected, cls.__name__
            assert conn.outstanding == before + (command_id in RESPONSE_OF)


@pytest.mark.parametrize(("state", "role"), ALL_CASES, ids=lambda v: v.name)
def test_every_received_input_transitions_per_table_or_is_handled(
    state: SessionState, role: Role
) -> None:
    for command_id, cls in PDU_CLASSES.items():
        conn = _connection_in(state, role)
        pdu = cls(sequence_number=900)
        conn.receive_data(encode(pdu))
        events: list[Event] = conn.events()
        sent = _decode_all(conn.data_to_send())
        expected = TRANSITIONS.get((state, role.peer, command_id))
        label = f"{cls.__name__} from {role.peer.name} in {state.name}"
        if state is SessionState.CLOSED:
            assert events == [], label
            assert sent == [], label
        elif command_id & 0x80000000:
            # nothing of ours is outstanding under 900: reported, dropped, session intact
            assert [type(e) for e in events] == [ProtocolViolation], label
            assert sent == [], label
            assert conn.state is state, label
        elif expected is not None:
            assert events[0] == pdu, label
            if command_id == CommandId.UNBIND:
                assert conn.state is SessionState.CLOSED, label
                assert sent == [UnbindResp(sequence_number=900)], label
            else:
                assert conn.state is expected, label
                if command_id == CommandId.ENQUIRE_LINK:
                    assert sent == [EnquireLinkResp(sequence_number=900)], label
                else:
                    assert sent == [], label
        elif command_id in RESPONSE_OF:
            assert [type(e) for e in events] == [ProtocolViolation], label
            assert conn.state is state, label
            [answer] = sent
            assert answer.sequence_number == 900, label
            assert answer.command_status != 0, label  # type: ignore[attr-defined]
        else:
            assert [type(e) for e in events] == [ConnectionClosed], label
            assert conn.state is SessionState.CLOSED, label


def test_table_only_names_live_states_as_sources() -> None:
    assert all(state is not SessionState.CLOSED for state, _, _ in TRANSITIONS)
    assert all(
        (state, Role.ESME, CommandId.SUBMIT_SM) in TRANSITIONS
        for state in (SessionState.BOUND_TX, SessionState.BOUND_TRX)
    )
    assert (SessionState.BOUND_RX, Role.ESME, CommandId.SUBMIT_SM) not in TRANSITIONS
    assert (SessionState.BOUND_TX, Role.SMSC, CommandId.DELIVER_SM) not in TRANSITIONS
    assert all(s in BOUND_STATES for s, r, c in TRANSITIONS if c == CommandId.SUBMIT_SM)


def test_query_sm_round_trip_through_the_pair() -> None:
    pair = ConnectionPair()
    pair.bind()
    query = QuerySm(sequence_number=pair.esme.next_sequence_number(), message_id="abc")
    assert pair.send(pair.esme, query) == [query]


def test_bind_response_variants_share_the_pair_helper() -> None:
    pair = ConnectionPair()
    response = pair.bind(BindTransceiver(sequence_number=7, system_id="x"))
    assert response == BindTransceiverResp(sequence_number=7, system_id="smsc")


# --- fuzz ----------------------------------------------------------------------------------------

_EVENT_TYPES = (Pdu, ProtocolViolation, ResponseTimedOut, ConnectionClosed)


@settings(max_examples=150)
@given(
    role=st.sampled_from(list(Role)),
    bind=st.booleans(),
    chunks=st.lists(
        st.one_of(st.binary(max_size=40), any_pdu.map(encode), any_pdu.map(encode)), max_size=12
    ),
    cut=st.integers(1, 64),
)
def test_whatever_the_peer_sends_the_connection_only_reports(
    role: Role, bind: bool, chunks: list[bytes], cut: int
) -> None:
    pair = ConnectionPair()
    if bind:
        pair.bind()
    conn = pair.esme if role is Role.ESME else pair.smsc
    conn.events()
    stream = b"".join(chunks)
    closed = False
    for i in range(0, len(stream), cut):
        conn.receive_data(stream[i : i + cut])
        conn.tick()
        for event in conn.events():
            assert isinstance(event, _EVENT_TYPES)
            assert not closed, "nothing may follow ConnectionClosed"
            closed = isinstance(event, ConnectionClosed)
        conn.data_to_send()
    assert closed == (conn.state is SessionState.CLOSED)
    assert conn.state in SessionState


def test_an_encoded_deliver_sm_is_numbered_counted_and_answered_like_a_deliver_sm() -> None:
    pair = ConnectionPair()
    pair.bind(BindTransceiver(system_id="esme"))
    receipt = DeliverSm(source_addr="447700900123", destination_addr="ACME", esm_class=4)
    octets = EncodedDeliverSm(body=encode(receipt)[16:])
    seq = pair.smsc.next_sequence_number()
    wire = pair.smsc.send(octets, sequence_number=seq)
    assert wire == encode(receipt, seq)
    assert pair.smsc.outstanding == 1
    pair.esme.receive_data(wire)
    assert pair.esme.events() == [dataclasses.replace(receipt, sequence_number=seq)]
    answer = DeliverSmResp(sequence_number=seq)
    assert pair.send(pair.esme, answer) == [answer]
    assert pair.smsc.outstanding == 0
    with pytest.raises(LocalProtocolError, match="cannot send"):
        pair.esme.send(EncodedDeliverSm(sequence_number=9, body=octets.body))  # not an ESME's
