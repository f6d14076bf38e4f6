"""Delivery: routing, retries, validity, receipt correlation, and the loop that runs them.

* :class:`Dispatcher` — claims queued messages, submits them through connectors, records the
  outcome, and stores delivery receipts.
* :class:`Router` — routes (prefix, country, sender) to the ordered connectors of a message.
* :class:`RetryPolicy`, :func:`classify` — what a failed submit means.
* :class:`PduBuilder` — a stored message to its submit_sm PDUs.
"""

from __future__ import annotations

from marconi.dispatch.batch import Batcher
from marconi.dispatch.correlate import IdBook
from marconi.dispatch.dispatcher import Dispatcher, InboundHandler, part_status_of
from marconi.dispatch.pdu import PduBuilder, address_kind, received_part
from marconi.dispatch.retry import Disposition, RetryPolicy, classify, error_code
from marconi.dispatch.route import Router, region_of

__all__ = [
    "Batcher",
    "Dispatcher",
    "Disposition",
    "IdBook",
    "InboundHandler",
    "PduBuilder",
    "RetryPolicy",
    "Router",
    "address_kind",
    "classify",
    "error_code",
    "part_status_of",
    "received_part",
    "region_of",
]
