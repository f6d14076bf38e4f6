"""Webhook deliveries as an account sees them: the list, one with its tries, replay; and the
account's signing secret, shown and rotated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from marconi.errors import Conflict, ValidationError
from marconi.services.clock import Clock, utc_now
from marconi.store.model import Page, WebhookAttempt, WebhookDelivery, WebhookStatus
from marconi.store.protocols import WebhookOutbox
from marconi.webhooks.secret import DEFAULT_GRACE, SecretRepository, SigningSecret

__all__ = ["MAX_GRACE", "DeliveryDetail", "WebhookService"]

MAX_GRACE: Final = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class DeliveryDetail:
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


def parse_status(value: str | None) -> WebhookStatus | None:
    if not value:
        return None
    try:
        return WebhookStatus(value.strip())
    except ValueError:
        raise ValidationError(
            f"status {value!r} is not one of {', '.join(s.value for s in WebhookStatus)}",
            code="invalid_value",
            field="status",
        ) from None


class WebhookService:
    def __init__(
        self, *, outbox: WebhookOutbox, secrets: SecretRepository, clock: Clock = utc_now
    ) -> None:
        self._outbox = outbox
        self._secrets = secrets
        self._clock = clock

    async def list_deliveries(
        self,
        account_id: str,
        *,
        status: WebhookStatus | None = None,
        message_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[WebhookDelivery]:
        """Newest first; ValidationError for a cursor we did not make."""
        return await self._outbox.list_webhook_deliveries(
            account_id, status=status, message_id=message_id, limit=limit, cursor=cursor
        )

    async def get_delivery(self, account_id: str, delivery_id: str) -> DeliveryDetail:
        delivery = await self._outbox.get_webhook_delivery(account_id, delivery_id)
        attempts = await self._outbox.list_webhook_attempts(account_id, delivery_id)
        return DeliveryDetail(delivery=delivery, attempts=attempts)

    async def replay(self, account_id: str, delivery_id: str) -> WebhookDelivery:
        """Send a delivered or dead delivery again, now; Conflict while it is still pending
        (it may be in flight, and would go out twice)."""
        current = await self._outbox.get_webhook_delivery(account_id, delivery_id)
        if current.status is WebhookStatus.PENDING:
            raise Conflict(f"webhook delivery {delivery_id} is still pending; it is retried anyway")
        return await self._outbox.replay_webhook(account_id, delivery_id, now=self._clock())

    async def signing_secret(self, account_id: str) -> SigningSecret:
        """The account's secret, made on first need."""
        return await self._secrets.get_or_create_secret(account_id, now=self._clock())

    async def rotate_secret(
        self, account_id: str, *, grace: timedelta = DEFAULT_GRACE
    ) -> SigningSecret:
        """A new secret; webhooks carry signatures with the old one too for ``grace``."""
        if not timedelta(0) <= grace <= MAX_GRACE:
            raise ValidationError(
                f"grace_period must be between 0 and {int(MAX_GRACE.total_seconds())} seconds",
                code="invalid_value",
                field="grace_period",
            )
        return await self._secrets.rotate_secret(account_id, now=self._clock(), grace=grace)
