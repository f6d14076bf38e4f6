"""Delivery receipts: the de-facto text format of SMPP 3.4 appendix B, and the receipt TLVs.

The text looks like::

    id:0123456789 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD
    err:000 text:Hello world

Real SMSCs vary it, and parsing tolerates what they send: keys and values in any case, ``Text:``,
``submit_date:``, dates with seconds (``YYMMDDhhmmss``) or a four-digit year, fields missing or in
another order, extra fields (kept in ``fields``), long statuses (``DELIVERED``, ``UNDELIVERABLE``),
and message ids in hex where the submit_sm_resp gave decimal or the other way round (see
:func:`message_ids_match`). The receipted_message_id, message_state and network_error_code TLVs
take precedence over the text when present.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from marconi.errors import RemoteProtocolError
from marconi.smpp.constants import EsmClass, MessageState, Tag
from marconi.smpp.pdu import DataSm, DeliverSm, _fast_init
from marconi.smpp.tlv import Tlvs


class InvalidReceipt(RemoteProtocolError):
    """A delivery receipt without a message id, so it cannot be matched to a message."""


class ReceiptStatus(enum.Enum):
    """The ``stat:`` of a receipt, spelled as on the wire."""

    ENROUTE = "ENROUTE"
    DELIVRD = "DELIVRD"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"
    UNDELIV = "UNDELIV"
    ACCEPTD = "ACCEPTD"
    UNKNOWN = "UNKNOWN"
    REJECTD = "REJECTD"

    @property
    def message_state(self) -> MessageState:
        return _STATE_OF[self]

    @classmethod
    def from_message_state(cls, state: int) -> ReceiptStatus:
        return _STATUS_OF.get(state, cls.UNKNOWN)

    @property
    def final(self) -> bool:
        """Whether the message can change no more (everything but ENROUTE and ACCEPTD)."""
        return self not in (ReceiptStatus.ENROUTE, ReceiptStatus.ACCEPTD)

    @property
    def delivered(self) -> bool:
        return self is ReceiptStatus.DELIVRD


_STATE_OF: Final[dict[ReceiptStatus, MessageState]] = {
    ReceiptStatus.ENROUTE: MessageState.ENROUTE,
    ReceiptStatus.DELIVRD: MessageState.DELIVERED,
    ReceiptStatus.EXPIRED: MessageState.EXPIRED,
    ReceiptStatus.DELETED: MessageState.DELETED,
    ReceiptStatus.UNDELIV: MessageState.UNDELIVERABLE,
    ReceiptStatus.ACCEPTD: MessageState.ACCEPTED,
    ReceiptStatus.UNKNOWN: MessageState.UNKNOWN,
    ReceiptStatus.REJECTD: MessageState.REJECTED,
}
_STATUS_OF: Final[dict[int, ReceiptStatus]] = {int(v): k for k, v in _STATE_OF.items()}

_STATUS_ALIASES: Final[dict[str, ReceiptStatus]] = {
    **{status.value: status for status in ReceiptStatus},
    "DELIVERED": ReceiptStatus.DELIVRD,
    "DELIV": ReceiptStatus.DELIVRD,
    "DELIVR": ReceiptStatus.DELIVRD,
    "UNDELIVERABLE": ReceiptStatus.UNDELIV,
    "UNDELIVERED": ReceiptStatus.UNDELIV,
    "UNDELIVRD": ReceiptStatus.UNDELIV,
    "FAILED": ReceiptStatus.UNDELIV,
    "EXPIRD": ReceiptStatus.EXPIRED,
    "DELETD": ReceiptStatus.DELETED,
    "ACCEPTED": ReceiptStatus.ACCEPTD,
    "REJECTED": ReceiptStatus.REJECTD,
    "REJECT": ReceiptStatus.REJECTD,
    "ENROUTE": ReceiptStatus.ENROUTE,
    "EN_ROUTE": ReceiptStatus.ENROUTE,
    "BUFFERED": ReceiptStatus.ENROUTE,
    "UNKNOWN": ReceiptStatus.UNKNOWN,
}


def parse_status(value: str) -> ReceiptStatus:
    """The status a ``stat:`` value names, tolerating case and long spellings; else UNKNOWN."""
    return _STATUS_ALIASES.get(value.strip().upper(), ReceiptStatus.UNKNOWN)


@_fast_init
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReceipt:
    """What a delivery receipt says about one submitted message."""

    message_id: str
    stat: ReceiptStatus = ReceiptStatus.UNKNOWN
    err: str = ""
    """The SMSC's error code as written (usually three digits); empty when absent."""
    sub: int | None = None
    """How many messages were submitted (``sub:``)."""
    dlvrd: int | None = None
    """How many were delivered (``dlvrd:``)."""
    submit_date: datetime | None = None
    done_date: datetime | None = None
    text: str = ""
    """The first characters of the message, as the SMSC echoed them."""
    network_error_code: tuple[int, int] | None = None
    """``(network type, error code)`` from the network_error_code TLV."""
    fields: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)
    """Every ``key:value`` of the text, keys in lower case (extra fields land here too)."""
    raw: str = dataclasses.field(default="", compare=False)
    """The text as received (not part of equality: two spellings of one receipt are equal)."""

    @property
    def error_code(self) -> int | None:
        """``err`` as a number when it is one (decimal), else None."""
        return int(self.err) if self.err.isdigit() else None

    def format(self) -> str:
        """The canonical text form of this receipt."""
        return format_receipt(
            message_id=self.message_id,
            stat=self.stat,
            err=self.err or "000",
            sub=1 if self.sub is None else self.sub,
            dlvrd=self.dlvrd,
            submit_date=self.submit_date,
            done_date=self.done_date,
            text=self.text,
        )


def is_receipt(pdu: DeliverSm | DataSm) -> bool:
    """Whether esm_class marks the PDU as an SMSC delivery receipt or intermediate notification."""
    kind = pdu.esm_class & EsmClass.TYPE_MASK
    return kind in (EsmClass.SMSC_DELIVERY_RECEIPT, EsmClass.INTERMEDIATE_DELIVERY_NOTIFICATION)


# keys are single words, or the two-word dates (with a space, an underscore or nothing between)
_KEY: Final = re.compile(r"(?:^|(?<=\s))(submit[ _]?date|done[ _]?date|[A-Za-z][\w-]*)\s*:", re.I)
_TEXT_KEY: Final = re.compile(r"(?:^|(?<=\s))text\s*:", re.I)


def parse_receipt_text(text: str | bytes) -> DeliveryReceipt:
    """Parse the text of a receipt; InvalidReceipt when it carries no message id."""
    return _parse(text, Tlvs())


def parse_receipt(pdu: DeliverSm | DataSm) -> DeliveryReceipt:
    """Parse a receipt PDU: its text (short_message, else message_payload) and its TLVs."""
    body: bytes = b""
    if isinstance(pdu, DeliverSm):
        body = pdu.short_message
    if not body:
        body = pdu.tlvs.get_bytes(Tag.MESSAGE_PAYLOAD) or b""
    return _parse(body, pdu.tlvs)


# the layout most SMSCs send, read in one match; anything else takes the tolerant path
_CANONICAL: Final = re.compile(
    r"id:(\S+) sub:(\S*) dlvrd:(\S*) submit date:(\d*) done date:(\d*) stat:(\S*) err:(\S*)"
    r" text:[ \t]*(.*)",
    re.S,
)
_CANONICAL_KEYS: Final = ("id", "sub", "dlvrd", "submit date", "done date", "stat", "err", "text")


def _parse(text: str | bytes, tlvs: Tlvs) -> DeliveryReceipt:
    raw = text.decode("latin-1") if isinstance(text, bytes) else text
    if "\x00" in raw:
        raw = raw.replace("\x00", "")
    canonical = _CANONICAL.fullmatch(raw)
    if canonical is not None:
        fields = dict(zip(_CANONICAL_KEYS, canonical.groups(), strict=True))
        echoed = fields["text"]
    else:
        fields, echoed = _fields(raw)

    message_id = (tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) if tlvs else None) or fields.get("id", "")
    message_id = message_id.strip()
    if not message_id:
        raise InvalidReceipt(f"no message id in receipt {raw[:80]!r}")
    state = tlvs.get_int(Tag.MESSAGE_STATE) if tlvs else None
    if state is not None and state in _STATUS_OF:
        stat = _STATUS_OF[state]
    else:
        stat = parse_status(fields.get("stat", ""))
    network_error = _network_error(tlvs.get_bytes(Tag.NETWORK_ERROR_CODE)) if tlvs else None
    err = fields.get("err", "")
    if not err and network_error is not None:
        err = f"{network_error[1]:03d}"
    return DeliveryReceipt(
        message_id=message_id,
        stat=stat,
        err=err,
        sub=_count(fields.get("sub")),
        dlvrd=_count(fields.get("dlvrd")),
        submit_date=parse_date(fields.get("submit date", "")),
        done_date=parse_date(fields.get("done date", "")),
        text=echoed,
        network_error_code=network_error,
        fields=fields,
        raw=raw,
    )


def _fields(raw: str) -> tuple[dict[str, str], str]:
    """Every ``key:value`` of a receipt text, and the echoed text after ``text:``."""
    head, echoed = raw, ""
    found = _TEXT_KEY.search(raw)
    if found is not None:
        head, echoed = raw[: found.start()], raw[found.end() :].lstrip()
    fields: dict[str, str] = {}
    matches = list(_KEY.finditer(head))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(head)
        key = match.group(1).lower().replace("_", " ")
        if key in ("submitdate", "donedate"):
            key = key[:-4] + " date"
        fields.setdefault(key, head[match.end() : end].strip())
    if found is not None:
        fields.setdefault("text", echoed)
    return fields, echoed


def _count(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() else None


def _network_error(value: bytes | None) -> tuple[int, int] | None:
    if value is None or len(value) != 3:
        return None
    return value[0], int.from_bytes(value[1:], "big")


@functools.lru_cache(maxsize=512)
def parse_date(value: str) -> datetime | None:
    """``YYMMDDhhmm``, ``YYMMDDhhmmss`` or ``YYYYMMDDhhmmss``; None when absent or invalid."""
    digits = value.strip()
    if not digits.isdigit():
        return None
    try:
        if len(digits) in (10, 12):
            second = int(digits[10:12]) if len(digits) == 12 else 0
            return datetime(
                2000 + int(digits[0:2]),
                int(digits[2:4]),
                int(digits[4:6]),
                int(digits[6:8]),
                int(digits[8:10]),
                second,
            )
        if len(digits) == 14:
            return datetime.strptime(digits, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return None


def format_receipt(
    *,
    message_id: str,
    stat: ReceiptStatus,
    err: str | int = "000",
    sub: int = 1,
    dlvrd: int | None = None,
    submit_date: datetime | None = None,
    done_date: datetime | None = None,
    text: str = "",
) -> str:
    """The appendix-B text: ``id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…``.

    ``dlvrd`` defaults to ``sub`` for DELIVRD and 0 otherwise; dates are written ``YYMMDDhhmm``
    (missing ones as zeros); ``text`` is cut to its first 20 characters.
    """
    if dlvrd is None:
        dlvrd = sub if stat is ReceiptStatus.DELIVRD else 0
    error = f"{err:03d}" if isinstance(err, int) else err
    return (
        f"id:{message_id} sub:{sub:03d} dlvrd:{dlvrd:03d} "
        f"submit date:{_date(submit_date)} done date:{_date(done_date)} "
        f"stat:{stat.value} err:{error} text:{text[:20]}"
    )


def _date(value: datetime | None) -> str:
    return "0000000000" if value is None else value.strftime("%y%m%d%H%M")


def receipt_pdu(
    receipt: DeliveryReceipt,
    *,
    source_addr: str,
    destination_addr: str,
    source_addr_ton: int = 0,
    source_addr_npi: int = 0,
    dest_addr_ton: int = 0,
    dest_addr_npi: int = 0,
    sequence_number: int = 0,
    with_tlvs: bool = True,
) -> DeliverSm:
    """A deliver_sm carrying ``receipt``: the text, and (unless ``with_tlvs`` is off) the TLVs.

    ``source_addr`` is the handset the message went to and ``destination_addr`` the sender, as a
    receipt travels back from the recipient.
    """
    tlvs = Tlvs()
    if with_tlvs:
        items: list[tuple[int, object]] = [
            (Tag.RECEIPTED_MESSAGE_ID, receipt.message_id),
            (Tag.MESSAGE_STATE, int(receipt.stat.message_state)),
        ]
        if receipt.network_error_code is not None:
            network_type, code = receipt.network_error_code
            items.append((Tag.NETWORK_ERROR_CODE, bytes((network_type,)) + code.to_bytes(2, "big")))
        tlvs = Tlvs(items)
    return DeliverSm(
        sequence_number=sequence_number,
        source_addr_ton=source_addr_ton,
        source_addr_npi=source_addr_npi,
        source_addr=source_addr,
        dest_addr_ton=dest_addr_ton,
        dest_addr_npi=dest_addr_npi,
        destination_addr=destination_addr,
        esm_class=EsmClass.SMSC_DELIVERY_RECEIPT,
        short_message=receipt.format().encode("latin-1", "replace"),
        tlvs=tlvs,
    )


# --- message ids ---------------------------------------------------------------------------------

_HEX: Final = re.compile(r"[0-9a-fA-F]+")


def normalize_message_id(value: str) -> str:
    """Trimmed, NUL-free, lower case, without leading zeros (``"0"`` stays ``"0"``)."""
    cleaned = value.replace("\x00", "").strip().lower()
    stripped = cleaned.lstrip("0")
    return stripped or ("0" if cleaned else "")


def message_id_forms(value: str) -> frozenset[str]:
    """Every normalized form under which an SMSC may echo this id: as is, hex↔decimal.

    A decimal id also reads as hex and a hex id made of digits also reads as decimal, so both
    conversions are offered; correlation looks each of them up.
    """
    base = normalize_message_id(value)
    forms = {base} if base else set()
    if base and _HEX.fullmatch(base) and len(base) <= 32:
        forms.add(normalize_message_id(str(int(base, 16))))
        if base.isdigit():
            forms.add(normalize_message_id(f"{int(base):x}"))
    return frozenset(forms)


def message_ids_match(submitted: str, receipted: str) -> bool:
    """Whether a receipt's id names the message the submit_sm_resp called ``submitted``."""
    a, b = normalize_message_id(submitted), normalize_message_id(receipted)
    if not a or not b:
        return False
    if a == b:
        return True
    return b in message_id_forms(a)
