"""Which status moves are allowed, and what a message's parts add up to. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from marconi.store.model import FINAL_STATUSES, MessageStatus, PartStatus

__all__ = ["ALLOWED", "FINAL_PART_STATUSES", "aggregate_parts", "can_move"]

S = MessageStatus

ALLOWED: Final[Mapping[MessageStatus, frozenset[MessageStatus]]] = {
    S.SCHEDULED: frozenset({S.QUEUED, S.CANCELED, S.EXPIRED, S.FAILED}),
    # queued -> sent: a submit result that arrives after its row was handed back as stale
    S.QUEUED: frozenset({S.SENDING, S.SENT, S.CANCELED, S.EXPIRED, S.FAILED}),
    S.SENDING: frozenset({S.SENT, S.QUEUED, S.FAILED, S.EXPIRED}),
    S.SENT: frozenset({S.DELIVERED, S.PARTIALLY_DELIVERED, S.UNDELIVERED, S.FAILED, S.EXPIRED}),
    **{status: frozenset() for status in FINAL_STATUSES},
}

FINAL_PART_STATUSES: Final = frozenset(
    {PartStatus.DELIVERED, PartStatus.UNDELIVERED, PartStatus.FAILED}
)


def can_move(current: MessageStatus, target: MessageStatus) -> bool:
    return target in ALLOWED[current]


def aggregate_parts(parts: Sequence[PartStatus], *, segments: int) -> MessageStatus | None:
    """The final status the parts add up to, or None while any part is still open.

    Every part delivered: delivered. Some delivered: partially_delivered. None delivered:
    undelivered, or failed when no part even reached the handset's network.
    """
    if len(parts) < segments or not parts:
        return None
    if any(p not in FINAL_PART_STATUSES for p in parts):
        return None
    delivered = sum(1 for p in parts if p is PartStatus.DELIVERED)
    if delivered == len(parts):
        return S.DELIVERED
    if delivered:
        return S.PARTIALLY_DELIVERED
    if any(p is PartStatus.UNDELIVERED for p in parts):
        return S.UNDELIVERED
    return S.FAILED
