"""Numeric constants of SMPP 3.4: command ids, statuses, TLV tags and the values of PDU fields."""

from __future__ import annotations

import enum
from typing import Final

INTERFACE_VERSION: Final = 0x34
"""The interface_version a bind carries for SMPP 3.4."""

HEADER_LENGTH: Final = 16
"""Every PDU starts with command_length, command_id, command_status and sequence_number."""

MAX_SEQUENCE_NUMBER: Final = 0x7FFFFFFF
"""Sequence numbers run from 1 to this value and then wrap to 1."""

RESPONSE_MASK: Final = 0x80000000
"""The bit of a command_id that marks a response."""


class CommandId(enum.IntEnum):
    """command_id of every SMPP 3.4 PDU."""

    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    QUERY_SM = 0x00000003
    QUERY_SM_RESP = 0x80000003
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    REPLACE_SM = 0x00000007
    REPLACE_SM_RESP = 0x80000007
    CANCEL_SM = 0x00000008
    CANCEL_SM_RESP = 0x80000008
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    OUTBIND = 0x0000000B
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015
    SUBMIT_MULTI = 0x00000021
    SUBMIT_MULTI_RESP = 0x80000021
    ALERT_NOTIFICATION = 0x00000102
    DATA_SM = 0x00000103
    DATA_SM_RESP = 0x80000103

    @property
    def is_response(self) -> bool:
        return bool(self & RESPONSE_MASK)


class CommandStatus(enum.IntEnum):
    """command_status values of SMPP 3.4 (table 5-2)."""

    ESME_ROK = 0x00000000
    ESME_RINVMSGLEN = 0x00000001
    ESME_RINVCMDLEN = 0x00000002
    ESME_RINVCMDID = 0x00000003
    ESME_RINVBNDSTS = 0x00000004
    ESME_RALYBND = 0x00000005
    ESME_RINVPRTFLG = 0x00000006
    ESME_RINVREGDLVFLG = 0x00000007
    ESME_RSYSERR = 0x00000008
    ESME_RINVSRCADR = 0x0000000A
    ESME_RINVDSTADR = 0x0000000B
    ESME_RINVMSGID = 0x0000000C
    ESME_RBINDFAIL = 0x0000000D
    ESME_RINVPASWD = 0x0000000E
    ESME_RINVSYSID = 0x0000000F
    ESME_RCANCELFAIL = 0x00000011
    ESME_RREPLACEFAIL = 0x00000013
    ESME_RMSGQFUL = 0x00000014
    ESME_RINVSERTYP = 0x00000015
    ESME_RINVNUMDESTS = 0x00000033
    ESME_RINVDLNAME = 0x00000034
    ESME_RINVDESTFLAG = 0x00000040
    ESME_RINVSUBREP = 0x00000042
    ESME_RINVESMCLASS = 0x00000043
    ESME_RCNTSUBDL = 0x00000044
    ESME_RSUBMITFAIL = 0x00000045
    ESME_RINVSRCTON = 0x00000048
    ESME_RINVSRCNPI = 0x00000049
    ESME_RINVDSTTON = 0x00000050
    ESME_RINVDSTNPI = 0x00000051
    ESME_RINVSYSTYP = 0x00000053
    ESME_RINVREPFLAG = 0x00000054
    ESME_RINVNUMMSGS = 0x00000055
    ESME_RTHROTTLED = 0x00000058
    ESME_RINVSCHED = 0x00000061
    ESME_RINVEXPIRY = 0x00000062
    ESME_RINVDFTMSGID = 0x00000063
    ESME_RX_T_APPN = 0x00000064
    ESME_RX_P_APPN = 0x00000065
    ESME_RX_R_APPN = 0x00000066
    ESME_RQUERYFAIL = 0x00000067
    ESME_RINVOPTPARSTREAM = 0x000000C0
    ESME_ROPTPARNOTALLWD = 0x000000C1
    ESME_RINVPARLEN = 0x000000C2
    ESME_RMISSINGOPTPARAM = 0x000000C3
    ESME_RINVOPTPARAMVAL = 0x000000C4
    ESME_RDELIVERYFAILURE = 0x000000FE
    ESME_RUNKNOWNERR = 0x000000FF


class Tag(enum.IntEnum):
    """Tags of the optional parameters (TLVs) SMPP 3.4 defines."""

    DEST_ADDR_SUBUNIT = 0x0005
    DEST_NETWORK_TYPE = 0x0006
    DEST_BEARER_TYPE = 0x0007
    DEST_TELEMATICS_ID = 0x0008
    SOURCE_ADDR_SUBUNIT = 0x000D
    SOURCE_NETWORK_TYPE = 0x000E
    SOURCE_BEARER_TYPE = 0x000F
    SOURCE_TELEMATICS_ID = 0x0010
    QOS_TIME_TO_LIVE = 0x0017
    PAYLOAD_TYPE = 0x0019
    ADDITIONAL_STATUS_INFO_TEXT = 0x001D
    RECEIPTED_MESSAGE_ID = 0x001E
    MS_MSG_WAIT_FACILITIES = 0x0030
    PRIVACY_INDICATOR = 0x0201
    SOURCE_SUBADDRESS = 0x0202
    DEST_SUBADDRESS = 0x0203
    USER_MESSAGE_REFERENCE = 0x0204
    USER_RESPONSE_CODE = 0x0205
    SOURCE_PORT = 0x020A
    DESTINATION_PORT = 0x020B
    SAR_MSG_REF_NUM = 0x020C
    LANGUAGE_INDICATOR = 0x020D
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    CALLBACK_NUM_PRES_IND = 0x0302
    CALLBACK_NUM_ATAG = 0x0303
    NUMBER_OF_MESSAGES = 0x0304
    CALLBACK_NUM = 0x0381
    DPF_RESULT = 0x0420
    SET_DPF = 0x0421
    MS_AVAILABILITY_STATUS = 0x0422
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    DELIVERY_FAILURE_REASON = 0x0425
    MORE_MESSAGES_TO_SEND = 0x0426
    MESSAGE_STATE = 0x0427
    USSD_SERVICE_OP = 0x0501
    DISPLAY_TIME = 0x1201
    SMS_SIGNAL = 0x1203
    MS_VALIDITY = 0x1204
    ALERT_ON_MESSAGE_DELIVERY = 0x130C
    ITS_REPLY_TYPE = 0x1380
    ITS_SESSION_INFO = 0x1383


class TlvType(enum.Enum):
    """How the value of a TLV is typed on the wire."""

    INT1 = 1
    INT2 = 2
    INT4 = 4
    CSTRING = "cstring"
    OCTETS = "octets"


TLV_TYPES: Final[dict[int, TlvType]] = {
    Tag.DEST_ADDR_SUBUNIT: TlvType.INT1,
    Tag.DEST_NETWORK_TYPE: TlvType.INT1,
    Tag.DEST_BEARER_TYPE: TlvType.INT1,
    Tag.DEST_TELEMATICS_ID: TlvType.INT2,
    Tag.SOURCE_ADDR_SUBUNIT: TlvType.INT1,
    Tag.SOURCE_NETWORK_TYPE: TlvType.INT1,
    Tag.SOURCE_BEARER_TYPE: TlvType.INT1,
    Tag.SOURCE_TELEMATICS_ID: TlvType.INT1,
    Tag.QOS_TIME_TO_LIVE: TlvType.INT4,
    Tag.PAYLOAD_TYPE: TlvType.INT1,
    Tag.ADDITIONAL_STATUS_INFO_TEXT: TlvType.CSTRING,
    Tag.RECEIPTED_MESSAGE_ID: TlvType.CSTRING,
    Tag.MS_MSG_WAIT_FACILITIES: TlvType.INT1,
    Tag.PRIVACY_INDICATOR: TlvType.INT1,
    Tag.SOURCE_SUBADDRESS: TlvType.OCTETS,
    Tag.DEST_SUBADDRESS: TlvType.OCTETS,
    Tag.USER_MESSAGE_REFERENCE: TlvType.INT2,
    Tag.USER_RESPONSE_CODE: TlvType.INT1,
    Tag.SOURCE_PORT: TlvType.INT2,
    Tag.DESTINATION_PORT: TlvType.INT2,
    Tag.SAR_MSG_REF_NUM: TlvType.INT2,
    Tag.LANGUAGE_INDICATOR: TlvType.INT1,
    Tag.SAR_TOTAL_SEGMENTS: TlvType.INT1,
    Tag.SAR_SEGMENT_SEQNUM: TlvType.INT1,
    Tag.SC_INTERFACE_VERSION: TlvType.INT1,
    Tag.CALLBACK_NUM_PRES_IND: TlvType.INT1,
    Tag.CALLBACK_NUM_ATAG: TlvType.OCTETS,
    Tag.NUMBER_OF_MESSAGES: TlvType.INT1,
    Tag.CALLBACK_NUM: TlvType.OCTETS,
    Tag.DPF_RESULT: TlvType.INT1,
    Tag.SET_DPF: TlvType.INT1,
    Tag.MS_AVAILABILITY_STATUS: TlvType.INT1,
    # network type (1 octet) followed by the error code (2 octets)
    Tag.NETWORK_ERROR_CODE: TlvType.OCTETS,
    Tag.MESSAGE_PAYLOAD: TlvType.OCTETS,
    Tag.DELIVERY_FAILURE_REASON: TlvType.INT1,
    Tag.MORE_MESSAGES_TO_SEND: TlvType.INT1,
    Tag.MESSAGE_STATE: TlvType.INT1,
    # the spec calls it a 1-octet string; its values are an enumeration, so it reads as an integer
    Tag.USSD_SERVICE_OP: TlvType.INT1,
    Tag.DISPLAY_TIME: TlvType.INT1,
    Tag.SMS_SIGNAL: TlvType.INT2,
    Tag.MS_VALIDITY: TlvType.INT1,
    Tag.ALERT_ON_MESSAGE_DELIVERY: TlvType.OCTETS,
    Tag.ITS_REPLY_TYPE: TlvType.INT1,
    Tag.ITS_SESSION_INFO: TlvType.OCTETS,
}
"""The wire type of every standard TLV; tags missing here are kept as raw octets."""


class Ton(enum.IntEnum):
    """Type of number of an address."""

    UNKNOWN = 0
    INTERNATIONAL = 1
    NATIONAL = 2
    NETWORK_SPECIFIC = 3
    SUBSCRIBER_NUMBER = 4
    ALPHANUMERIC = 5
    ABBREVIATED = 6


class Npi(enum.IntEnum):
    """Numbering plan indicator of an address."""

    UNKNOWN = 0
    ISDN = 1  # E.163 / E.164
    DATA = 3  # X.121
    TELEX = 4  # F.69
    LAND_MOBILE = 6  # E.212
    NATIONAL = 8
    PRIVATE = 9
    ERMES = 10
    INTERNET = 14
    WAP_CLIENT_ID = 18


class EsmClass(enum.IntFlag):
    """Bits of esm_class: messaging mode (bits 0-1), message type (bits 2-5), GSM features (6-7)."""

    DEFAULT = 0x00
    # messaging mode
    MODE_DATAGRAM = 0x01
    MODE_FORWARD = 0x02
    MODE_STORE_AND_FORWARD = 0x03
    MODE_MASK = 0x03
    # message type
    SMSC_DELIVERY_RECEIPT = 0x04
    ESME_DELIVERY_ACK = 0x08
    ESME_MANUAL_ACK = 0x10
    CONVERSATION_ABORT = 0x18
    INTERMEDIATE_DELIVERY_NOTIFICATION = 0x20
    TYPE_MASK = 0x3C
    # GSM network features
    UDHI = 0x40
    REPLY_PATH = 0x80


class RegisteredDelivery(enum.IntFlag):
    """Bits of registered_delivery."""

    NONE = 0x00
    # SMSC delivery receipt, bits 0-1
    RECEIPT_ON_SUCCESS_OR_FAILURE = 0x01
    RECEIPT_ON_FAILURE = 0x02
    RECEIPT_MASK = 0x03
    # SME originated acknowledgement, bits 2-3
    SME_DELIVERY_ACK = 0x04
    SME_MANUAL_ACK = 0x08
    SME_ACK_MASK = 0x0C
    # intermediate notification, bit 4
    INTERMEDIATE_NOTIFICATION = 0x10


class MessageState(enum.IntEnum):
    """message_state values (query_sm_resp, and the message_state TLV of receipts)."""

    ENROUTE = 1
    DELIVERED = 2
    EXPIRED = 3
    DELETED = 4
    UNDELIVERABLE = 5
    ACCEPTED = 6
    UNKNOWN = 7
    REJECTED = 8


class DataCoding(enum.IntEnum):
    """The data_coding values SMPP 3.4 names (bits beyond these carry message class etc.)."""

    SMSC_DEFAULT = 0x00
    IA5 = 0x01
    OCTET_UNSPECIFIED = 0x02
    LATIN_1 = 0x03
    OCTET_UNSPECIFIED_2 = 0x04
    JIS = 0x05
    CYRILLIC = 0x06
    LATIN_HEBREW = 0x07
    UCS2 = 0x08
    PICTOGRAM = 0x09
    ISO_2022_JP = 0x0A
    EXTENDED_KANJI = 0x0D
    KS_C_5601 = 0x0E


class PriorityFlag(enum.IntEnum):
    """priority_flag levels."""

    LEVEL_0 = 0
    LEVEL_1 = 1
    LEVEL_2 = 2
    LEVEL_3 = 3


class DestFlag(enum.IntEnum):
    """dest_flag of a submit_multi destination."""

    SME_ADDRESS = 1
    DISTRIBUTION_LIST = 2


MAX_SHORT_MESSAGE: Final = 254
"""short_message carries at most this many octets; longer content goes in message_payload."""
