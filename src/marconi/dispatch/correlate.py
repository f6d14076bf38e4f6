"""Matching a receipt's message id to the id a submit_sm_resp gave, whatever form each is in.

SMSCs answer a submit in one form and put the id in the receipt in another (hex for decimal,
leading zeros, upper case). Ids are stored normalized (:func:`~marconi.smpp.normalize_message_id`);
a receipt whose normalized id is not one this process submitted recently is looked up under its
other forms (:func:`~marconi.smpp.message_id_forms`) among the recent ids, and otherwise used as
is — which is also how a receipt that arrives before its submit response is kept until the
response is stored. Pure, bounded memory.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from marconi.smpp.receipt import message_id_forms, normalize_message_id

__all__ = ["IdBook"]

_KEPT: Final = 500_000


class IdBook:
    """Recently submitted SMSC message ids, per connector."""

    def __init__(self, *, capacity: int = _KEPT) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[tuple[str, str], None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def submitted(self, connector: str, smsc_message_id: str) -> str:
        """Remember an id the SMSC gave; returns the form to store."""
        normalized = normalize_message_id(smsc_message_id)
        ids = self._ids
        ids[(connector, normalized)] = None
        if len(ids) > self._capacity:
            ids.popitem(last=False)
        return normalized

    def resolve(self, connector: str, receipted_id: str) -> str:
        """The stored form of the id a receipt names."""
        normalized = normalize_message_id(receipted_id)
        ids = self._ids
        if (connector, normalized) in ids:
            return normalized
        for form in message_id_forms(normalized):
            if (connector, form) in ids:
                return form
        return normalized

    def forget(self, connector: str, smsc_message_id: str) -> None:
        self._ids.pop((connector, smsc_message_id), None)
