"""Verify's rows as the values the store hands out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marconi.store.verify_model import (
    BlockReason,
    Verification,
    VerificationStatus,
    VerifyBlock,
    VerifyService,
)

__all__ = ["block_of", "service_of", "verification_of"]


def service_of(row: Mapping[Any, Any]) -> VerifyService:
    return VerifyService(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        code_length=row["code_length"],
        ttl=row["ttl"],
        max_attempts=row["max_attempts"],
        max_sends=row["max_sends"],
        send_window=row["send_window"],
        prefix_limit=row["prefix_limit"],
        country_limit=row["country_limit"],
        allowed_countries=tuple(row["allowed_countries"]),
        template=row["template"],
        locale=row["locale"],
        from_addr=row["from_addr"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def verification_of(row: Mapping[Any, Any]) -> Verification:
    return Verification(
        id=row["id"],
        service_id=row["service_id"],
        account_id=row["account_id"],
        to_addr=row["to_addr"],
        country=row["country"],
        status=VerificationStatus(row["status"]),
        code_hash=row["code_hash"],
        attempts=row["attempts"],
        sends=row["sends"],
        message_id=row["message_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        expires_at=row["expires_at"],
    )


def block_of(row: Mapping[Any, Any]) -> VerifyBlock:
    return VerifyBlock(
        id=row["id"],
        service_id=row["service_id"],
        account_id=row["account_id"],
        to_addr=row["to_addr"],
        country=row["country"],
        reason=BlockReason(row["reason"]),
        detail=row["detail"],
        created_at=row["created_at"],
    )
