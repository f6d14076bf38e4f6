"""Verify's use-cases: services, starting a verification, checking and canceling it, blocks.

A start draws a code, keeps its hash, and queues the message in the priority class (so it is
claimed before any ordinary message waiting). A start while a code is still valid sends the same
code again (its text is taken from the message that carried it) and counts against the send
limit like any send. A check counts an attempt and compares in constant time; a verification
leaves ``pending`` once: approved, canceled, expired or max_attempts_reached, and stays there.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from marconi.errors import Conflict, MarconiError, NotFound, ValidationError
from marconi.services.address import normalize_phone
from marconi.services.clock import Clock, Monotonic, monotonic, utc_now
from marconi.services.message import MessageService, SendRequest
from marconi.store.ids import MESSAGE, new_id
from marconi.store.model import Message, NewMessage
from marconi.store.verify_model import (
    VERIFICATION_ID,
    CheckDecision,
    Issue,
    NewVerifyService,
    Resend,
    SendCounts,
    StartDecision,
    Verification,
    VerificationStatus,
    VerifyBlock,
    VerifyRepository,
    VerifyService,
    VerifyServicePatch,
)
from marconi.verify.code import CODE_MAX, CODE_MIN, code_matches, generate_code, hash_code
from marconi.verify.guard import destination_of, guard
from marconi.verify.settings import (
    DEFAULTS,
    ServiceSettings,
    check_settings,
    given,
    merge,
    sender,
    settings_of,
)
from marconi.verify.template import check_template, render

__all__ = [
    "VERIFY_PRIORITY",
    "CheckResult",
    "StartedVerification",
    "VerificationBlocked",
    "VerificationClosed",
    "VerificationService",
]

VERIFY_PRIORITY: Final = 10
"""The messages of codes are claimed before every message of a lower priority (ordinary: 0)."""

_SEEN_TTL: Final = 5.0  # seconds a service as last seen is used to prepare a code's message
_SEEN_MAX: Final = 4096


class VerificationBlocked(MarconiError):
    """The fraud guard refused a start; the block is stored and listed."""

    def __init__(self, block: VerifyBlock) -> None:
        super().__init__(block.detail)
        self.block = block
        self.reason = block.reason


class VerificationClosed(Conflict):
    """A check or cancel of a verification that is no longer pending; ``code`` says why."""

    def __init__(self, message: str, *, code: str, verification: Verification) -> None:
        super().__init__(message)
        self.code = code
        self.verification = verification


@dataclass(frozen=True, slots=True)
class StartedVerification:
    verification: Verification
    message: Message
    resent: bool


@dataclass(frozen=True, slots=True)
class CheckResult:
    verification: Verification
    valid: bool


def shown_status(verification: Verification, now: datetime) -> Verification:
    """A pending verification past its time reads as expired (it is stored so when touched)."""
    if verification.status is VerificationStatus.PENDING and verification.expires_at <= now:
        return dataclasses.replace(verification, status=VerificationStatus.EXPIRED)
    return verification


class VerificationService:
    def __init__(
        self,
        *,
        store: VerifyRepository,
        messages: MessageService,
        clock: Clock = utc_now,
        monotonic_clock: Monotonic = monotonic,
    ) -> None:
        self._store = store
        self._messages = messages
        self._clock = clock
        self._monotonic = monotonic_clock
        # Services as last seen, to prepare a code's message before the start's transaction
        # (which checks the service did not change since).
        self._seen: dict[tuple[str, str], tuple[float, VerifyService]] = {}

    # -- services ------------------------------------------------------------------------------

    async def create_service(self, account_id: str, settings: ServiceSettings) -> VerifyService:
        if settings.name is None:
            raise ValidationError("name is required", code="missing_field", field="name")
        merged = merge(DEFAULTS, settings)
        check_settings(merged)
        assert merged.name is not None
        assert merged.locale is not None
        return await self._store.create_service(
            NewVerifyService(
                account_id=account_id,
                name=merged.name,
                code_length=given(merged.code_length),
                ttl=given(merged.ttl),
                max_attempts=given(merged.max_attempts),
                max_sends=given(merged.max_sends),
                send_window=given(merged.send_window),
                prefix_limit=given(merged.prefix_limit),
                country_limit=given(merged.country_limit),
                allowed_countries=merged.allowed_countries or (),
                template=check_template(merged.template, merged.locale),
                locale=merged.locale,
                from_addr=sender(merged.from_),
            ),
            now=self._clock(),
        )

    async def update_service(
        self, account_id: str, service_id: str, settings: ServiceSettings
    ) -> VerifyService:
        current = await self._store.get_service(account_id, service_id)
        merged = merge(settings_of(current), settings)
        check_settings(merged)
        assert merged.locale is not None
        template = None
        if settings.template is not None or settings.locale is not None:
            # A new locale without a template of its own takes that locale's default.
            template = check_template(settings.template, merged.locale)
        if settings.from_ is not None:
            raise ValidationError(
                "from cannot be changed; create a new service", code="invalid_value", field="from"
            )
        updated = await self._store.update_service(
            account_id,
            service_id,
            VerifyServicePatch(
                name=settings.name,
                code_length=settings.code_length,
                ttl=settings.ttl,
                max_attempts=settings.max_attempts,
                max_sends=settings.max_sends,
                send_window=settings.send_window,
                prefix_limit=settings.prefix_limit,
                country_limit=settings.country_limit,
                allowed_countries=merged.allowed_countries
                if settings.allowed_countries is not None
                else None,
                template=template,
                locale=settings.locale,
            ),
            now=self._clock(),
        )
        return self._remember(updated)

    async def get_service(self, account_id: str, service_id: str) -> VerifyService:
        return await self._store.get_service(account_id, service_id)

    async def list_services(self, account_id: str) -> list[VerifyService]:
        return await self._store.list_services(account_id)

    async def list_blocks(
        self, account_id: str, service_id: str, *, limit: int = 100
    ) -> list[VerifyBlock]:
        await self._store.get_service(account_id, service_id)  # NotFound for another account's
        return await self._store.list_blocks(account_id, service_id, limit=limit)

    # -- verifications ---------------------------------------------------------------------------

    async def start(self, account_id: str, service_id: str, to: str) -> StartedVerification:
        """Send a code to ``to`` (or the valid one again). VerificationBlocked when the fraud
        guard refuses; the refusal is kept and listed by :meth:`list_blocks`."""
        destination = destination_of(normalize_phone(to, field="to"))
        clock = self._clock()
        # Named now so the verification and its message are stored with each other's id.
        message_id = new_id(MESSAGE)
        verification_id = new_id(VERIFICATION_ID)
        # The code and its message are prepared from the service as last seen, so the message
        # is stored in the verification's own transaction; if the service changed meanwhile,
        # the code is drawn again from the locked row and its message sent afterwards.
        known = await self._service_of(account_id, service_id)
        code = generate_code(known.code_length)
        code_hash = hash_code(code)
        prepared = await self._messages.prepare(
            account_id,
            _code_request(
                known,
                destination.to_addr,
                _text(known, code),
                verification_id=verification_id,
                message_id=message_id,
                validity_period=known.ttl,
            ),
            now=clock,
        )

        def decide(
            service: VerifyService, pending: Verification | None, counts: SendCounts, at: datetime
        ) -> StartDecision:
            nonlocal code, code_hash
            refused = guard(service, destination, counts)
            if refused is not None:
                return refused
            if pending is not None and pending.message_id is not None:
                return Resend()
            message: NewMessage | None = prepared
            if service.updated_at != known.updated_at:
                message = None
                code = generate_code(service.code_length)
                code_hash = hash_code(code)
            return Issue(
                id=verification_id,
                code_hash=code_hash,
                expires_at=at + timedelta(seconds=service.ttl),
                message_id=message_id,
                message=message,
            )

        result = await self._store.start_verification(
            account_id, service_id, destination, now=clock, decide=decide
        )
        self._remember(result.service)
        now = result.at
        if result.block is not None:
            raise VerificationBlocked(result.block)
        verification = result.verification
        assert verification is not None
        if result.message is not None:  # stored with the verification
            return StartedVerification(verification, result.message, False)
        service = result.service
        if result.resent:
            body = await self._body_of(account_id, verification)
            carrier: str | None = None  # a new message, named by the message service
        else:
            body = _text(service, code)
            carrier = message_id
        request = _code_request(
            service,
            verification.to_addr,
            body,
            verification_id=verification.id,
            message_id=carrier,
            validity_period=max(1, int((verification.expires_at - now).total_seconds())),
        )
        try:
            message = await self._messages.send(account_id, request)
        except MarconiError:
            if not result.resent:  # nothing carries its code: it can never be approved
                await self._close(account_id, service_id, verification.id)
            raise
        if result.resent:
            await self._store.set_message(verification.id, message.id, now=now)
            await self._erase(account_id, verification.message_id)  # the new one carries it
            verification = dataclasses.replace(verification, message_id=message.id)
        return StartedVerification(verification, message, result.resent)

    async def _service_of(self, account_id: str, service_id: str) -> VerifyService:
        seen = self._seen.get((account_id, service_id))
        if seen is not None and seen[0] > self._monotonic():
            return seen[1]
        return self._remember(await self._store.get_service(account_id, service_id))

    def _remember(self, service: VerifyService) -> VerifyService:
        if len(self._seen) >= _SEEN_MAX:
            self._seen.clear()
        until = self._monotonic() + _SEEN_TTL
        self._seen[service.account_id, service.id] = (until, service)
        return service

    async def _body_of(self, account_id: str, verification: Verification) -> str:
        body = None
        if verification.message_id is not None:
            try:
                body = (await self._messages.get_message(account_id, verification.message_id)).body
            except NotFound:
                body = None
        if body is None:
            raise VerificationClosed(
                "the message that carries this code cannot be read (it is still being stored, "
                "or it was redacted), so the code cannot be sent again now; retry in a moment, "
                "or cancel the verification and start a new one",
                code="code_unavailable",
                verification=verification,
            )
        return body

    async def _close(self, account_id: str, service_id: str, verification_id: str) -> None:
        def cancel(v: Verification) -> CheckDecision:
            return CheckDecision(status=VerificationStatus.CANCELED, attempts=v.attempts)

        await self._store.update_verification(
            account_id,
            service_id,
            verification_id=verification_id,
            now=self._clock(),
            decide=cancel,
        )

    async def get(self, account_id: str, service_id: str, verification_id: str) -> Verification:
        found = await self._store.get_verification(account_id, service_id, verification_id)
        return shown_status(found, self._clock())

    async def check(
        self,
        account_id: str,
        service_id: str,
        code: str,
        *,
        verification_id: str | None = None,
        to: str | None = None,
    ) -> CheckResult:
        """Count an attempt and compare ``code``. A wrong code leaves it pending until the
        attempts run out; a verification no longer pending raises VerificationClosed."""
        if not isinstance(code, str) or not code.isdigit() or not CODE_MIN <= len(code) <= CODE_MAX:
            raise ValidationError(
                f"code must be {CODE_MIN} to {CODE_MAX} digits", code="invalid_value", field="code"
            )
        to_addr = None
        if verification_id is None:
            if to is None:
                raise ValidationError(
                    "give the verification's id or its to", code="missing_field", field="to"
                )
            to_addr = normalize_phone(to, field="to")
        service = await self._store.get_service(account_id, service_id)
        now = self._clock()
        decided: CheckDecision | None = None

        def decide(current: Verification) -> CheckDecision | None:
            nonlocal decided
            if current.status is not VerificationStatus.PENDING:
                return None
            attempts = current.attempts + 1
            if current.expires_at <= now:
                decided = CheckDecision(status=VerificationStatus.EXPIRED, attempts=attempts - 1)
            elif code_matches(code, current.code_hash):
                decided = CheckDecision(status=VerificationStatus.APPROVED, attempts=attempts)
            elif attempts >= service.max_attempts:
                decided = CheckDecision(
                    status=VerificationStatus.MAX_ATTEMPTS_REACHED, attempts=attempts
                )
            else:
                decided = CheckDecision(status=VerificationStatus.PENDING, attempts=attempts)
            return decided

        verification = await self._store.update_verification(
            account_id,
            service_id,
            verification_id=verification_id,
            to_addr=to_addr,
            now=now,
            decide=decide,
        )
        if decided is None:
            raise _closed(verification)
        if decided.status in (VerificationStatus.APPROVED, VerificationStatus.EXPIRED):
            await self._erase(account_id, verification.message_id)
        if decided.status is VerificationStatus.EXPIRED:
            raise _closed(verification)  # no attempt was counted
        return CheckResult(verification, decided.status is VerificationStatus.APPROVED)

    async def _erase(self, account_id: str, message_id: str | None) -> None:
        """Redact the text of a message that carried a code no longer needed; one still
        waiting to be sent keeps it (the message service refuses until it is sent)."""
        if message_id is None:
            return
        with contextlib.suppress(Conflict, NotFound):
            await self._messages.redact(account_id, message_id)

    async def cancel(self, account_id: str, service_id: str, verification_id: str) -> Verification:
        now = self._clock()
        canceled = False

        def decide(current: Verification) -> CheckDecision | None:
            nonlocal canceled
            if current.status is not VerificationStatus.PENDING:
                return None
            if current.expires_at <= now:
                return CheckDecision(status=VerificationStatus.EXPIRED, attempts=current.attempts)
            canceled = True
            return CheckDecision(status=VerificationStatus.CANCELED, attempts=current.attempts)

        verification = await self._store.update_verification(
            account_id, service_id, verification_id=verification_id, now=now, decide=decide
        )
        if not canceled:
            raise _closed(verification)
        await self._erase(account_id, verification.message_id)
        return verification


def _code_request(
    service: VerifyService,
    to_addr: str,
    body: str,
    *,
    verification_id: str,
    message_id: str | None,
    validity_period: int,
) -> SendRequest:
    """The message that carries a code, in the priority class, valid as long as the code."""
    return SendRequest(
        to=to_addr,
        body=body,
        from_=service.from_addr,
        validity_period=validity_period,
        metadata={"verification_id": verification_id},
        priority=VERIFY_PRIORITY,
        id=message_id,
    )


def _text(service: VerifyService, code: str) -> str:
    return render(service.template, code=code, name=service.name, ttl=service.ttl)


def _closed(verification: Verification) -> VerificationClosed:
    status = verification.status
    return VerificationClosed(
        f"verification {verification.id} is {status.value}; start a new one",
        code=f"verification_{status.value}",
        verification=verification,
    )
