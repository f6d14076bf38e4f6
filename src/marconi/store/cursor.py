"""Opaque page cursors: the (created_at, id) of the last row of a page, newest first."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from marconi.errors import ValidationError
from marconi.store.schema import from_micros, to_micros

__all__ = ["decode_cursor", "encode_cursor"]


def encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = f"{to_micros(created_at)}:{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        micros, row_id = raw.split(":", 1)
        if not row_id.isalnum():
            raise ValueError(row_id)
        return from_micros(int(micros)), row_id
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
        raise ValidationError(
            "the cursor is not one this API returned; pass next_cursor from the previous page",
            code="invalid_cursor",
            field="cursor",
        ) from None
