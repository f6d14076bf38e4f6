"""Prometheus metrics of one running service, on a registry of its own (no global state).

The runtime builds one :class:`Metrics` and passes it to the dispatcher, the inbound service and
the webhook worker; ``/metrics`` renders its registry. Per-connector series carry a
``connector`` label.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.accepted = Counter(
            "marconi_messages_accepted", "Messages accepted through the API", registry=r
        )
        self.submitted = Counter(
            "marconi_messages_submitted",
            "Messages the SMSC accepted (every part answered)",
            ["connector"],
            registry=r,
        )
        self.submit_errors = Counter(
            "marconi_submit_errors",
            "Submits refused or lost, by connector and error code",
            ["connector", "code"],
            registry=r,
        )
        self.retried = Counter(
            "marconi_messages_retried", "Messages handed back to the queue to try later", registry=r
        )
        self.delivered = Counter(
            "marconi_parts_delivered",
            "Delivery receipts saying delivered, by connector",
            ["connector"],
            registry=r,
        )
        self.undelivered = Counter(
            "marconi_parts_undelivered",
            "Delivery receipts saying undelivered or failed, by connector",
            ["connector"],
            registry=r,
        )
        self.failed = Counter(
            "marconi_messages_failed",
            "Messages that failed for good before reaching an SMSC, by reason",
            ["code"],
            registry=r,
        )
        self.expired = Counter(
            "marconi_messages_expired", "Messages past their validity period", registry=r
        )
        self.received = Counter(
            "marconi_messages_received", "Inbound (MO) messages stored", ["connector"], registry=r
        )
        self.receipts = Counter(
            "marconi_receipts",
            "Delivery receipts by what was done with them",
            ["outcome"],
            registry=r,
        )
        self.queue_depth = Gauge("marconi_queue_depth", "Messages queued or being sent", registry=r)
        self.link_up = Gauge(
            "marconi_link_up", "1 while the connector is bound", ["connector"], registry=r
        )
        self.submit_latency = Histogram(
            "marconi_submit_latency_seconds",
            "From submit_sm sent to submit_sm_resp, per batch, by connector",
            ["connector"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=r,
        )
        self.webhook_deliveries = Counter(
            "marconi_webhook_deliveries", "Webhook attempts that succeeded", registry=r
        )
        self.webhook_failures = Counter(
            "marconi_webhook_failures", "Webhook attempts that failed", registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
