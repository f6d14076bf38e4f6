"""Test helpers shipped with the package: a fake clock and an ESME wired to an SMSC in memory."""

from __future__ import annotations

import dataclasses

from marconi.smpp.connection import SmppConnection
from marconi.smpp.event import Event
from marconi.smpp.pdu import (
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    Pdu,
    Response,
)
from marconi.smpp.session import Role

_BIND_RESPONSES: dict[
    type[Pdu], type[BindTransmitterResp | BindReceiverResp | BindTransceiverResp]
] = {
    BindTransmitter: BindTransmitterResp,
    BindReceiver: BindReceiverResp,
    BindTransceiver: BindTransceiverResp,
}


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class ConnectionPair:
    """An ESME connection and an SMSC connection joined back to back, with one shared clock.

    ``send(sender, pdu)`` sends from one side, delivers the bytes to the other, then carries the
    automatic traffic (enquire_link answers, nacks) both ways until both sides are quiet. Events
    stay queued in each connection until ``events()`` is called on it; ``send`` returns the
    receiver's.
    """

    def __init__(
        self,
        *,
        clock: FakeClock | None = None,
        window: int = 64,
        response_timeout: float | None = 30.0,
        enquire_link_interval: float | None = None,
    ) -> None:
        self.clock = clock if clock is not None else FakeClock()
        self.esme = SmppConnection(
            role=Role.ESME,
            window=window,
            clock=self.clock,
            response_timeout=response_timeout,
            enquire_link_interval=enquire_link_interval,
        )
        self.smsc = SmppConnection(
            role=Role.SMSC,
            window=window,
            clock=self.clock,
            response_timeout=response_timeout,
            enquire_link_interval=enquire_link_interval,
        )

    def peer_of(self, conn: SmppConnection) -> SmppConnection:
        return self.smsc if conn is self.esme else self.esme

    def send(self, sender: SmppConnection, pdu: Pdu) -> list[Event]:
        """``sender.send(pdu)``, delivered to the other side; returns the other side's events."""
        receiver = self.peer_of(sender)
        receiver.receive_data(sender.send(pdu))
        self.pump()
        return receiver.events()

    def pump(self) -> None:
        """Carry ``data_to_send()`` both ways until neither side has anything left."""
        while True:
            moved = False
            for source in (self.esme, self.smsc):
                data = source.data_to_send()
                if data:
                    self.peer_of(source).receive_data(data)
                    moved = True
            if not moved:
                return

    def tick(self, advance: float = 0.0) -> None:
        """Move the clock, tick both sides and carry what they produced."""
        self.clock.advance(advance)
        self.esme.tick()
        self.smsc.tick()
        self.pump()

    def bind(
        self,
        request: BindTransmitter | BindReceiver | BindTransceiver | None = None,
        *,
        system_id: str = "smsc",
    ) -> Response:
        """A complete, accepted bind; returns the response as the ESME received it."""
        if request is None:
            request = BindTransceiver(system_id="esme")
        if request.sequence_number == 0:
            request = dataclasses.replace(request, sequence_number=self.esme.next_sequence_number())
        self.send(self.esme, request)
        response = _BIND_RESPONSES[type(request)](
            sequence_number=request.sequence_number, system_id=system_id
        )
        for event in self.send(self.smsc, response):
            if isinstance(event, Response):
                return event
        raise AssertionError("the ESME did not receive the bind response")
