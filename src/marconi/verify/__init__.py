"""Verify: one-time codes sent by SMS through the priority class, checked in constant time,
behind a fraud guard against SMS pumping. See docs/verify.md."""

from __future__ import annotations

from marconi.verify.service import (
    VERIFY_PRIORITY,
    CheckResult,
    StartedVerification,
    VerificationBlocked,
    VerificationClosed,
    VerificationService,
)
from marconi.verify.settings import ServiceSettings

__all__ = [
    "VERIFY_PRIORITY",
    "CheckResult",
    "ServiceSettings",
    "StartedVerification",
    "VerificationBlocked",
    "VerificationClosed",
    "VerificationService",
]
