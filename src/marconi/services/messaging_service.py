"""Messaging services: a pool of the account's numbers that messages are sent from, with
defaults for those messages.

- **Sender choice**: with ``sticky_sender`` a destination always gets the same number of the
  pool (a hash of the destination picks it, so it holds on every node and after a restart,
  while the pool stays the same); without it, any number of the pool.
- **Defaults**: the service's status callback and validity period apply to a message that
  gives none of its own.
- **Inbound**: unless ``use_inbound_webhook_on_number``, the service's inbound request URL is
  written to every number of the pool (when it joins, and when the URL changes), so incoming
  messages to them go there.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from marconi.errors import ValidationError
from marconi.services.clock import Clock, utc_now
from marconi.services.number import WEBHOOK_METHODS, NumberService
from marconi.store.messaging_service import MessagingService, MessagingServiceRepository
from marconi.store.model import Number

__all__ = ["MessagingServices", "PoolNumber", "ServiceSettings"]

NAME_MAX: Final = 200
VALIDITY_MAX: Final = 14 * 24 * 3600


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSettings:
    friendly_name: str = ""
    status_callback: str | None = None
    inbound_request_url: str | None = None
    inbound_method: str = "POST"
    use_inbound_webhook_on_number: bool = False
    sticky_sender: bool = True
    validity_period: int | None = None

    def checked(self) -> ServiceSettings:
        if len(self.friendly_name) > NAME_MAX:
            raise ValidationError(
                f"FriendlyName is longer than {NAME_MAX} characters",
                code="too_long",
                field="FriendlyName",
            )
        if self.inbound_method not in WEBHOOK_METHODS:
            raise ValidationError(
                f"InboundMethod must be POST or GET, got {self.inbound_method!r}",
                code="invalid_value",
                field="InboundMethod",
            )
        if self.validity_period is not None and not 1 <= self.validity_period <= VALIDITY_MAX:
            raise ValidationError(
                f"ValidityPeriod must be between 1 and {VALIDITY_MAX} seconds",
                code="invalid_value",
                field="ValidityPeriod",
            )
        return self


@dataclass(frozen=True, slots=True)
class PoolNumber:
    number: Number
    service_id: str
    joined_at: datetime


class MessagingServices:
    def __init__(
        self,
        *,
        services: MessagingServiceRepository,
        numbers: NumberService,
        clock: Clock = utc_now,
    ) -> None:
        self._services = services
        self._numbers = numbers
        self._clock = clock

    async def create(self, account_id: str, settings: ServiceSettings) -> MessagingService:
        fields = settings.checked()
        return await self._services.create_service(
            account_id,
            now=self._clock(),
            friendly_name=fields.friendly_name,
            status_callback=fields.status_callback,
            inbound_request_url=fields.inbound_request_url,
            inbound_method=fields.inbound_method,
            use_inbound_webhook_on_number=fields.use_inbound_webhook_on_number,
            sticky_sender=fields.sticky_sender,
            validity_period=fields.validity_period,
        )

    async def get(self, account_id: str, service_id: str) -> MessagingService:
        return await self._services.get_service(account_id, service_id)

    async def list_services(self, account_id: str) -> list[MessagingService]:
        return await self._services.list_services(account_id)

    async def update(
        self, account_id: str, service_id: str, settings: ServiceSettings
    ) -> MessagingService:
        """Replace the settings (the face merges what the request left out)."""
        fields = settings.checked()
        service = await self._services.update_service(
            account_id,
            service_id,
            now=self._clock(),
            friendly_name=fields.friendly_name,
            status_callback=fields.status_callback,
            inbound_request_url=fields.inbound_request_url,
            inbound_method=fields.inbound_method,
            use_inbound_webhook_on_number=fields.use_inbound_webhook_on_number,
            sticky_sender=fields.sticky_sender,
            validity_period=fields.validity_period,
        )
        for number_id, _ in await self._services.list_service_numbers(account_id, service_id):
            await self._route_inbound(service, number_id)
        return service

    async def delete(self, account_id: str, service_id: str) -> None:
        await self._services.delete_service(account_id, service_id)

    async def add_number(self, account_id: str, service_id: str, number_id: str) -> PoolNumber:
        service = await self._services.get_service(account_id, service_id)
        joined = await self._services.add_service_number(
            account_id, service_id, number_id, now=self._clock()
        )
        number = await self._route_inbound(service, number_id)
        return PoolNumber(number, service_id, joined)

    async def remove_number(self, account_id: str, service_id: str, number_id: str) -> None:
        await self._services.remove_service_number(account_id, service_id, number_id)

    async def numbers(self, account_id: str, service_id: str) -> list[PoolNumber]:
        pool = await self._services.list_service_numbers(account_id, service_id)
        return [
            PoolNumber(await self._numbers.get_number(account_id, number_id), service_id, joined)
            for number_id, joined in pool
        ]

    async def pick_sender(
        self, account_id: str, service_id: str, to: str
    ) -> tuple[MessagingService, str]:
        """The service and the number of its pool to send to ``to`` from."""
        service = await self._services.get_service(account_id, service_id)
        pool = sorted(p.number.value for p in await self.numbers(account_id, service_id))
        if not pool:
            raise ValidationError(
                f"messaging service {service_id} has no numbers to send from",
                code="messaging_service_empty",
                field="MessagingServiceSid",
            )
        if service.sticky_sender:
            digest = hashlib.sha256(to.strip().encode("utf-8")).digest()
            return service, pool[int.from_bytes(digest[:8], "big") % len(pool)]
        return service, secrets.choice(pool)

    async def _route_inbound(self, service: MessagingService, number_id: str) -> Number:
        if service.use_inbound_webhook_on_number or service.inbound_request_url is None:
            return await self._numbers.get_number(service.account_id, number_id)
        return await self._numbers.update_number(
            service.account_id,
            number_id,
            inbound_webhook_url=service.inbound_request_url,
            inbound_webhook_method=service.inbound_method,
        )
