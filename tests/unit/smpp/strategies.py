"""Hypothesis strategies for every SMPP PDU, shared by the smpp unit tests."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import strategies as st

from marconi.smpp import (
    PDU_CLASSES,
    TLV_TYPES,
    AlertNotification,
    DataSm,
    DistributionList,
    Pdu,
    Response,
    SmeAddress,
    Tlvs,
    TlvType,
    UnsuccessSme,
)

# the spec's maximum size of each C-string field, without its NUL
_TEXT_MAX = {
    "system_id": 15,
    "password": 8,
    "system_type": 12,
    "address_range": 40,
    "service_type": 5,
    "source_addr": 20,
    "destination_addr": 20,
    "message_id": 64,
    "esme_addr": 64,
    "dl_name": 20,
}
_WIDE_ADDRESSES = {DataSm, AlertNotification}
_TIMES = {"schedule_delivery_time", "validity_period", "final_date"}


def text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=max_size)


time_field = st.one_of(
    st.just(""), text(16).filter(lambda s: len(s) == 16), st.just("240101120000000+")
)

octet = st.integers(0, 255)

known_tlv = st.sampled_from(sorted(TLV_TYPES)).flatmap(
    lambda tag: st.tuples(
        st.just(tag),
        {
            TlvType.INT1: st.integers(0, 0xFF),
            TlvType.INT2: st.integers(0, 0xFFFF),
            TlvType.INT4: st.integers(0, 0xFFFFFFFF),
            TlvType.CSTRING: text(80),
            TlvType.OCTETS: st.binary(max_size=80),
        }[TLV_TYPES[tag]],
    )
)
unknown_tlv = st.tuples(
    st.integers(0, 0xFFFF).filter(lambda tag: tag not in TLV_TYPES), st.binary(max_size=80)
)
tlvs = st.lists(st.one_of(known_tlv, unknown_tlv), max_size=4).map(Tlvs)

sme_address = st.builds(
    SmeAddress, dest_addr_ton=octet, dest_addr_npi=octet, destination_addr=text(20)
)
distribution_list = st.builds(DistributionList, dl_name=text(20))
unsuccess_sme = st.builds(
    UnsuccessSme,
    dest_addr_ton=octet,
    dest_addr_npi=octet,
    destination_addr=text(20),
    error_status_code=st.integers(0, 0xFFFFFFFF),
)


def _field_strategy(cls: type[Pdu], field: dataclasses.Field[Any]) -> st.SearchStrategy[Any]:
    name = field.name
    if name == "sequence_number":
        return st.integers(0, 0xFFFFFFFF)
    if name == "command_status":
        return st.one_of(st.just(0), st.integers(0, 0xFFFFFFFF))
    if name == "tlvs":
        return tlvs
    if name == "short_message":
        return st.binary(max_size=254)
    if name == "dest_address":
        return st.lists(st.one_of(sme_address, distribution_list), max_size=5).map(tuple)
    if name == "unsuccess_sme":
        return st.lists(unsuccess_sme, max_size=5).map(tuple)
    if name in _TIMES:
        return time_field
    if field.type == "str":
        maximum = _TEXT_MAX[name]
        if cls in _WIDE_ADDRESSES and name in ("source_addr", "destination_addr"):
            maximum = 64
        return text(maximum)
    assert field.type == "int", (cls, name, field.type)
    return octet


def pdu_of(cls: type[Pdu]) -> st.SearchStrategy[Pdu]:
    fields = dataclasses.fields(cls)
    return st.builds(cls, **{f.name: _field_strategy(cls, f) for f in fields})


any_pdu = st.sampled_from(list(PDU_CLASSES.values())).flatmap(pdu_of)
any_response = st.sampled_from(
    [cls for cls in PDU_CLASSES.values() if issubclass(cls, Response)]
).flatmap(pdu_of)
