"""What the store keeps for Verify: services, verifications, fraud-guard blocks, and the
decisions a service hands the store to apply inside one transaction."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from marconi.store.model import Message, NewMessage

__all__ = [
    "VERIFICATION_ID",
    "BlockReason",
    "CheckDecider",
    "CheckDecision",
    "Destination",
    "Issue",
    "NewVerifyService",
    "Refuse",
    "Resend",
    "SendCounts",
    "StartDecider",
    "StartDecision",
    "StartResult",
    "Verification",
    "VerificationStatus",
    "VerifyBlock",
    "VerifyRepository",
    "VerifyService",
    "VerifyServicePatch",
]


VERIFICATION_ID: Final = "VE"
"""The prefix of verification ids."""


class VerificationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    CANCELED = "canceled"
    EXPIRED = "expired"
    MAX_ATTEMPTS_REACHED = "max_attempts_reached"


class BlockReason(enum.StrEnum):
    COUNTRY_NOT_ALLOWED = "country_not_allowed"
    DESTINATION_LIMIT = "destination_limit"
    PREFIX_LIMIT = "prefix_limit"
    COUNTRY_LIMIT = "country_limit"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewVerifyService:
    account_id: str
    name: str
    code_length: int
    ttl: int
    max_attempts: int
    max_sends: int
    send_window: int
    prefix_limit: int
    country_limit: int
    allowed_countries: tuple[str, ...]
    template: str
    locale: str
    from_addr: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyService:
    id: str
    account_id: str
    name: str
    code_length: int
    ttl: int  # seconds a code stays valid
    max_attempts: int  # checks per verification
    max_sends: int  # sends per destination per window
    send_window: int  # seconds
    prefix_limit: int  # sends per number range per window
    country_limit: int  # sends per country per window
    allowed_countries: tuple[str, ...]  # ISO 3166 region codes; empty: any
    template: str  # with {code}, and optionally {name} and {ttl_minutes}
    locale: str
    from_addr: str | None  # None: the account's default sender
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyServicePatch:
    """Fields to change; None leaves one as it is."""

    name: str | None = None
    code_length: int | None = None
    ttl: int | None = None
    max_attempts: int | None = None
    max_sends: int | None = None
    send_window: int | None = None
    prefix_limit: int | None = None
    country_limit: int | None = None
    allowed_countries: tuple[str, ...] | None = None
    template: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    id: str
    service_id: str
    account_id: str
    to_addr: str
    country: str
    status: VerificationStatus
    code_hash: str
    attempts: int
    sends: int
    message_id: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyBlock:
    id: str
    service_id: str
    account_id: str
    to_addr: str
    country: str
    reason: BlockReason
    detail: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """A number as the velocity limits count it."""

    to_addr: str  # E.164
    prefix: str  # the number range it belongs to
    country: str  # ISO 3166 region code


@dataclass(frozen=True, slots=True, kw_only=True)
class SendCounts:
    """Sends in the service's window, each counted up to one past its limit."""

    destination: int
    prefix: int
    country: int


# -- decisions a service makes inside the store's transaction ---------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Refuse:
    reason: BlockReason
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Resend:
    """Send the pending verification's code again."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """A new verification with this code, to be sent as the message ``message_id``. With
    ``message`` (that message, prepared), it is stored in the same transaction."""

    id: str
    code_hash: str
    expires_at: datetime
    message_id: str
    message: NewMessage | None = None


StartDecision = Refuse | Resend | Issue
StartDecider = Callable[[VerifyService, Verification | None, SendCounts, datetime], StartDecision]
"""``decide(service, pending, counts, at)``, called with the service's row locked; ``at`` is the
time the start is recorded at (the latest clock of the starts decided with it)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StartResult:
    service: VerifyService  # as it was read, locked, for the decision
    verification: Verification | None  # None when refused
    block: VerifyBlock | None
    at: datetime  # when it was recorded: the send's time, the verification's creation
    resent: bool = False
    message: Message | None = None  # the Issue's message, stored with it


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckDecision:
    """The verification's new status and attempts (``None``: leave it unchanged)."""

    status: VerificationStatus
    attempts: int


CheckDecider = Callable[[Verification], CheckDecision | None]
"""``decide(verification)``, called with its row locked; None changes nothing."""


class VerifyRepository(Protocol):
    async def create_service(self, new: NewVerifyService, *, now: datetime) -> VerifyService: ...

    async def get_service(self, account_id: str, service_id: str) -> VerifyService:
        """NotFound unless the service is the account's."""
        ...

    async def list_services(self, account_id: str) -> list[VerifyService]: ...

    async def update_service(
        self, account_id: str, service_id: str, patch: VerifyServicePatch, *, now: datetime
    ) -> VerifyService: ...

    async def start_verification(
        self,
        account_id: str,
        service_id: str,
        destination: Destination,
        *,
        now: datetime,
        decide: StartDecider,
    ) -> StartResult: ...

    async def set_message(
        self, verification_id: str, message_id: str, *, now: datetime
    ) -> None: ...

    async def get_verification(
        self, account_id: str, service_id: str, verification_id: str
    ) -> Verification: ...

    async def update_verification(
        self,
        account_id: str,
        service_id: str,
        *,
        verification_id: str | None = None,
        to_addr: str | None = None,
        now: datetime,
        decide: CheckDecider,
    ) -> Verification: ...

    async def list_blocks(
        self, account_id: str, service_id: str, *, limit: int = 100
    ) -> list[VerifyBlock]: ...
