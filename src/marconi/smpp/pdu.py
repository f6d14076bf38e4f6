"""Every SMPP 3.4 PDU as a frozen dataclass, fields named and ordered as in the spec.

Construction is by keyword, every field has a default, and nothing is validated until the PDU is
encoded (so decoding, which must accept what real peers send, stays cheap). Requests carry
``sequence_number``; responses carry ``sequence_number`` and ``command_status``. Every PDU carries
``tlvs``, the optional parameters.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import ClassVar, Final, TypeVar

from marconi.smpp.constants import INTERFACE_VERSION, CommandId, CommandStatus
from marconi.smpp.tlv import NO_TLVS, Tlvs

_T = TypeVar("_T")
_MISSING = object()


def _fast_init(cls: type[_T]) -> type[_T]:
    """Replace the dataclass ``__init__`` by one that sets slots through their descriptors.

    A frozen dataclass assigns each field through ``object.__setattr__``; writing the slot
    descriptors directly does the same work in about half the time, which matters on the
    submit/deliver path. ``_make`` is the positional twin that the decoder uses.
    """
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    namespace: dict[str, object] = {"_missing": _MISSING}
    sets = []
    for f in fields:
        namespace[f"_set_{f.name}"] = inspect.getattr_static(cls, f.name).__set__
        if f.default_factory is not dataclasses.MISSING:
            namespace[f"_default_{f.name}"] = _MISSING
            namespace[f"_factory_{f.name}"] = f.default_factory
            value = f"_factory_{f.name}() if {f.name} is _missing else {f.name}"
            sets.append(f"    _set_{f.name}(self, {value})\n")
        else:
            namespace[f"_default_{f.name}"] = f.default
            sets.append(f"    _set_{f.name}(self, {f.name})\n")
    params = ", ".join(f"{f.name}=_default_{f.name}" for f in fields)
    names = ", ".join(f.name for f in fields)
    body = "".join(sets)
    source = (
        f"def __init__(self, *, {params}):\n{body}"
        f"def _make({names}):\n    self = _new(_cls)\n{body}    return self\n"
    )
    namespace["_new"] = object.__new__
    namespace["_cls"] = cls
    exec(source, namespace)  # noqa: S102 - source is built from the dataclass fields only
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    setattr(cls, "__init__", init)  # noqa: B010
    setattr(cls, "_make", staticmethod(namespace["_make"]))  # type: ignore[arg-type]  # noqa: B010
    return cls


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Pdu:
    """Base of every PDU."""

    command_id: ClassVar[CommandId]
    _make: ClassVar[Callable[..., Pdu]]

    sequence_number: int = 0


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Request(Pdu):
    """A PDU that expects a response (outbind and alert_notification expect none)."""

    response_class: ClassVar[type[Response] | None]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Response(Pdu):
    """A PDU answering a request; ``command_status`` is ``ESME_ROK`` or an error."""

    command_status: int = CommandStatus.ESME_ROK

    @property
    def ok(self) -> bool:
        return self.command_status == 0


# --- session management ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BindTransmitterResp(Response):
    command_id = CommandId.BIND_TRANSMITTER_RESP
    system_id: str = ""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BindReceiverResp(Response):
    command_id = CommandId.BIND_RECEIVER_RESP
    system_id: str = ""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BindTransceiverResp(Response):
    command_id = CommandId.BIND_TRANSCEIVER_RESP
    system_id: str = ""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BindTransmitter(Request):
    command_id = CommandId.BIND_TRANSMITTER
    response_class = BindTransmitterResp
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BindReceiver(Request):
    command_id = CommandId.BIND_RECEIVER
    response_class = BindReceiverResp
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BindTransceiver(Request):
    command_id = CommandId.BIND_TRANSCEIVER
    response_class = BindTransceiverResp
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Outbind(Request):
    """The SMSC asks an ESME it connected to for a bind_receiver; there is no response PDU."""

    command_id = CommandId.OUTBIND
    response_class = None
    system_id: str = ""
    password: str = ""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class UnbindResp(Response):
    command_id = CommandId.UNBIND_RESP
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Unbind(Request):
    command_id = CommandId.UNBIND
    response_class = UnbindResp
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class EnquireLinkResp(Response):
    command_id = CommandId.ENQUIRE_LINK_RESP
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class EnquireLink(Request):
    command_id = CommandId.ENQUIRE_LINK
    response_class = EnquireLinkResp
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class GenericNack(Response):
    """Negative answer to a PDU whose header could not be understood."""

    command_id = CommandId.GENERIC_NACK
    tlvs: Tlvs = NO_TLVS


# --- message submission and delivery --------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SubmitSmResp(Response):
    command_id = CommandId.SUBMIT_SM_RESP
    message_id: str = ""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SubmitSm(Request):
    command_id = CommandId.SUBMIT_SM
    response_class = SubmitSmResp
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSmResp(Response):
    command_id = CommandId.DELIVER_SM_RESP
    message_id: str = ""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSm(Request):
    """Same layout as submit_sm; the SMSC leaves the scheduling fields empty."""

    command_id = CommandId.DELIVER_SM
    response_class = DeliverSmResp
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class EncodedDeliverSm(Request):
    """A deliver_sm whose body (every octet after the header) is encoded already.

    For an SMSC that sends receipts by the thousand from a template: the connection numbers it,
    counts it in the window and frames it like a :class:`DeliverSm`, and the peer answers it with
    a :class:`DeliverSmResp`, but no field is encoded or checked on the way out. ``decode`` the
    framed octets to see the fields. Never produced by the decoder.
    """

    command_id = CommandId.DELIVER_SM
    response_class = DeliverSmResp
    body: bytes = b""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SmeAddress:
    """A submit_multi destination that is one address (dest_flag 1)."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DistributionList:
    """A submit_multi destination that names a distribution list kept by the SMSC (dest_flag 2)."""

    dl_name: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class UnsuccessSme:
    """A destination of submit_multi that the SMSC refused, and why."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    error_status_code: int = 0


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SubmitMultiResp(Response):
    command_id = CommandId.SUBMIT_MULTI_RESP
    message_id: str = ""
    unsuccess_sme: tuple[UnsuccessSme, ...] = ()
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SubmitMulti(Request):
    command_id = CommandId.SUBMIT_MULTI
    response_class = SubmitMultiResp
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_address: tuple[SmeAddress | DistributionList, ...] = ()
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DataSmResp(Response):
    command_id = CommandId.DATA_SM_RESP
    message_id: str = ""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DataSm(Request):
    command_id = CommandId.DATA_SM
    response_class = DataSmResp
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    registered_delivery: int = 0
    data_coding: int = 0
    tlvs: Tlvs = NO_TLVS


# --- ancillary operations -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QuerySmResp(Response):
    command_id = CommandId.QUERY_SM_RESP
    message_id: str = ""
    final_date: str = ""
    message_state: int = 0
    error_code: int = 0
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QuerySm(Request):
    command_id = CommandId.QUERY_SM
    response_class = QuerySmResp
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CancelSmResp(Response):
    command_id = CommandId.CANCEL_SM_RESP
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CancelSm(Request):
    command_id = CommandId.CANCEL_SM
    response_class = CancelSmResp
    service_type: str = ""
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceSmResp(Response):
    command_id = CommandId.REPLACE_SM_RESP
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceSm(Request):
    command_id = CommandId.REPLACE_SM
    response_class = ReplaceSmResp
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: Tlvs = NO_TLVS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AlertNotification(Request):
    """The SMSC tells an ESME that a mobile became available; there is no response PDU."""

    command_id = CommandId.ALERT_NOTIFICATION
    response_class = None
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    esme_addr_ton: int = 0
    esme_addr_npi: int = 0
    esme_addr: str = ""
    tlvs: Tlvs = NO_TLVS


PDU_CLASSES: Final[dict[int, type[Pdu]]] = {
    cls.command_id: _fast_init(cls)
    for cls in (
        BindTransmitter,
        BindTransmitterResp,
        BindReceiver,
        BindReceiverResp,
        BindTransceiver,
        BindTransceiverResp,
        Outbind,
        Unbind,
        UnbindResp,
        EnquireLink,
        EnquireLinkResp,
        GenericNack,
        SubmitSm,
        SubmitSmResp,
        DeliverSm,
        DeliverSmResp,
        SubmitMulti,
        SubmitMultiResp,
        DataSm,
        DataSmResp,
        QuerySm,
        QuerySmResp,
        CancelSm,
        CancelSmResp,
        ReplaceSm,
        ReplaceSmResp,
        AlertNotification,
    )
}
"""The class of every PDU, by command_id."""

for _cls in (SmeAddress, DistributionList, UnsuccessSme, EncodedDeliverSm):
    _fast_init(_cls)


def response_to(request: Request, command_status: int = CommandStatus.ESME_ROK) -> Response:
    """The response to ``request`` with empty body fields (for errors, and for bodiless answers)."""
    cls = request.response_class
    if cls is None:
        raise TypeError(f"{type(request).__name__} has no response PDU")
    return cls(sequence_number=request.sequence_number, command_status=command_status)
