"""The SMPP 3.4 session state machine, as one transition table.

A key is ``(state, sender role, command_id)``: *who* sends *which* PDU in *which* state, and the
value is the state after it. A connection looks up the same table for what it sends (sender = its
own role) and for what it receives (sender = the peer's role), so both ends of a link follow one
picture. A response whose command_status is not ``ESME_ROK`` never changes the state (a refused
bind leaves the session OPEN, ready for another attempt). Anything missing from the table is
refused.
"""

from __future__ import annotations

import enum
from typing import Final

from marconi.smpp.constants import CommandId


class Role(enum.Enum):
    """Which end of the link a connection plays."""

    ESME = "esme"
    SMSC = "smsc"

    @property
    def peer(self) -> Role:
        return Role.SMSC if self is Role.ESME else Role.ESME


class SessionState(enum.Enum):
    """Session states of SMPP 3.4 section 2.2."""

    OPEN = "open"
    """Connected; no bind yet (or the last one was refused)."""
    OUTBOUND = "outbound"
    """The SMSC connected to the ESME and sent outbind; the ESME binds as receiver next."""
    BOUND_TX = "bound_tx"
    BOUND_RX = "bound_rx"
    BOUND_TRX = "bound_trx"
    UNBOUND = "unbound"
    """An unbind was sent or received; only responses, and the unbind_resp, may follow."""
    CLOSED = "closed"
    """The session is over; nothing may be sent or received."""


ESME, SMSC = Role.ESME, Role.SMSC
OPEN, OUTBOUND = SessionState.OPEN, SessionState.OUTBOUND
BOUND_TX, BOUND_RX, BOUND_TRX = SessionState.BOUND_TX, SessionState.BOUND_RX, SessionState.BOUND_TRX
UNBOUND, CLOSED = SessionState.UNBOUND, SessionState.CLOSED

BOUND_STATES: Final = frozenset({BOUND_TX, BOUND_RX, BOUND_TRX})
LIVE_STATES: Final = frozenset(SessionState) - {CLOSED}

RESPONSE_OF: Final[dict[int, CommandId]] = {
    CommandId.BIND_TRANSMITTER: CommandId.BIND_TRANSMITTER_RESP,
    CommandId.BIND_RECEIVER: CommandId.BIND_RECEIVER_RESP,
    CommandId.BIND_TRANSCEIVER: CommandId.BIND_TRANSCEIVER_RESP,
    CommandId.UNBIND: CommandId.UNBIND_RESP,
    CommandId.ENQUIRE_LINK: CommandId.ENQUIRE_LINK_RESP,
    CommandId.SUBMIT_SM: CommandId.SUBMIT_SM_RESP,
    CommandId.SUBMIT_MULTI: CommandId.SUBMIT_MULTI_RESP,
    CommandId.DELIVER_SM: CommandId.DELIVER_SM_RESP,
    CommandId.DATA_SM: CommandId.DATA_SM_RESP,
    CommandId.QUERY_SM: CommandId.QUERY_SM_RESP,
    CommandId.CANCEL_SM: CommandId.CANCEL_SM_RESP,
    CommandId.REPLACE_SM: CommandId.REPLACE_SM_RESP,
}
"""The response command of every request that has one (outbind and alert_notification have none)."""

_Key = tuple[SessionState, Role, int]

# Requests each role may send in each state, and the state they lead to (None: unchanged).
_ESME_TRANSMIT = (
    CommandId.SUBMIT_SM,
    CommandId.SUBMIT_MULTI,
    CommandId.DATA_SM,
    CommandId.QUERY_SM,
    CommandId.CANCEL_SM,
    CommandId.REPLACE_SM,
)
_SMSC_DELIVER = (CommandId.DELIVER_SM, CommandId.DATA_SM, CommandId.ALERT_NOTIFICATION)
_BINDS = (CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER)

_REQUESTS: dict[SessionState, dict[Role, tuple[int, ...]]] = {
    OPEN: {
        ESME: (*_BINDS, CommandId.ENQUIRE_LINK),
        SMSC: (CommandId.OUTBIND, CommandId.ENQUIRE_LINK),
    },
    # 3.4 answers outbind with bind_receiver; bind_transceiver (SMPP 5.0) is accepted as well
    OUTBOUND: {
        ESME: (CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER, CommandId.ENQUIRE_LINK),
        SMSC: (CommandId.ENQUIRE_LINK,),
    },
    BOUND_TX: {
        ESME: (*_ESME_TRANSMIT, CommandId.ENQUIRE_LINK, CommandId.UNBIND),
        SMSC: (CommandId.ENQUIRE_LINK, CommandId.UNBIND),
    },
    BOUND_RX: {
        ESME: (CommandId.ENQUIRE_LINK, CommandId.UNBIND),
        SMSC: (*_SMSC_DELIVER, CommandId.ENQUIRE_LINK, CommandId.UNBIND),
    },
    BOUND_TRX: {
        ESME: (*_ESME_TRANSMIT, CommandId.ENQUIRE_LINK, CommandId.UNBIND),
        SMSC: (*_SMSC_DELIVER, CommandId.ENQUIRE_LINK, CommandId.UNBIND),
    },
    # both ends may unbind at once; each answers the other's unbind
    UNBOUND: {ESME: (CommandId.UNBIND,), SMSC: (CommandId.UNBIND,)},
}

_REQUEST_RESULT: dict[int, SessionState] = {
    CommandId.OUTBIND: OUTBOUND,
    CommandId.UNBIND: UNBOUND,
}

_BIND_RESULT: dict[int, SessionState] = {
    CommandId.BIND_TRANSMITTER_RESP: BOUND_TX,
    CommandId.BIND_RECEIVER_RESP: BOUND_RX,
    CommandId.BIND_TRANSCEIVER_RESP: BOUND_TRX,
}


def _build() -> dict[_Key, SessionState]:
    table: dict[_Key, SessionState] = {}
    for state, by_role in _REQUESTS.items():
        for role, commands in by_role.items():
            for command in commands:
                table[state, role, command] = _REQUEST_RESULT.get(command, state)
                response = RESPONSE_OF.get(command)
                if response is not None:
                    table[state, role.peer, response] = _BIND_RESULT.get(response, state)
    for state in LIVE_STATES:
        for role in Role:
            # generic_nack may answer anything, in any live state
            table[state, role, CommandId.GENERIC_NACK] = state
    for role in Role:
        # requests sent before an unbind are still answered while the session winds down
        for response in RESPONSE_OF.values():
            table.setdefault((UNBOUND, role, response), UNBOUND)
        table[UNBOUND, role, CommandId.UNBIND_RESP] = CLOSED
        # a response may arrive after the state moved on from where its request was sent
        for state in BOUND_STATES:
            table.setdefault((state, role, CommandId.ENQUIRE_LINK_RESP), state)
    return table


TRANSITIONS: Final[dict[_Key, SessionState]] = _build()
"""``(state, sender role, command_id) -> next state`` for every input SMPP 3.4 allows."""


def may_ever_send(role: Role, command_id: int) -> bool:
    """Whether ``role`` may send ``command_id`` in some state at all."""
    return any(key[1] is role and key[2] == command_id for key in TRANSITIONS)


def rules_for(state: SessionState, role: Role) -> dict[int, SessionState]:
    """The slice of the table for one state and one sender: command_id -> next state."""
    return {
        command: result
        for (from_state, sender, command), result in TRANSITIONS.items()
        if from_state is state and sender is role
    }
