"""Webhooks: signed, durable delivery of status callbacks and inbound messages.

- :mod:`~marconi.webhooks.signature`: Standard Webhooks style signing and :func:`verify`;
- :mod:`~marconi.webhooks.secret`: each account's signing secret, rotation with a grace period;
- :mod:`~marconi.webhooks.payload`: the JSON bodies;
- :mod:`~marconi.webhooks.backoff`: the retry schedule;
- :mod:`~marconi.webhooks.guard`: refusing private targets (SSRF), :func:`check_webhook_url`;
- :mod:`~marconi.webhooks.worker`: :class:`WebhookWorker`, the sender.
"""

from __future__ import annotations

from marconi.webhooks.backoff import DEFAULT_SCHEDULE, RetrySchedule
from marconi.webhooks.guard import TargetRefused, check_webhook_url
from marconi.webhooks.payload import (
    INBOUND_EVENT_TYPE,
    STATUS_EVENT_TYPE,
    inbound_payload,
    status_payload,
)
from marconi.webhooks.secret import SigningSecret, SqlSecretRepository
from marconi.webhooks.signature import WebhookVerificationError, generate_secret, verify
from marconi.webhooks.worker import ReplyHook, WebhookMetrics, WebhookStats, WebhookWorker

__all__ = [
    "DEFAULT_SCHEDULE",
    "INBOUND_EVENT_TYPE",
    "STATUS_EVENT_TYPE",
    "ReplyHook",
    "RetrySchedule",
    "SigningSecret",
    "SqlSecretRepository",
    "TargetRefused",
    "WebhookMetrics",
    "WebhookStats",
    "WebhookVerificationError",
    "WebhookWorker",
    "check_webhook_url",
    "generate_secret",
    "inbound_payload",
    "status_payload",
    "verify",
]
