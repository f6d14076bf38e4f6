"""The tables, as SQLAlchemy Core metadata. Migrations in ``migrations/versions`` create the same.

Times are ``timestamptz`` on PostgreSQL and integer microseconds since the epoch on SQLite (compact,
sortable, and cheap to convert). Every time the store hands out is timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

__all__ = [
    "EPOCH",
    "UtcDateTime",
    "accounts",
    "api_keys",
    "auth_tokens",
    "connectors",
    "early_receipts",
    "from_micros",
    "idempotency_keys",
    "keyword_settings",
    "message_events",
    "message_parts",
    "messages",
    "messaging_service_numbers",
    "messaging_services",
    "metadata",
    "numbers",
    "opt_outs",
    "routes",
    "template_versions",
    "templates",
    "to_micros",
    "verifications",
    "verify_blocks",
    "verify_sends",
    "verify_services",
    "webhook_attempts",
    "webhook_outbox",
    "webhook_secrets",
]

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO: Final = timedelta(microseconds=1)


def to_micros(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("the store takes timezone-aware datetimes only")
    return (value - EPOCH) // _MICRO


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC datetime: ``timestamptz`` on PostgreSQL, integer microseconds on SQLite."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> object:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return to_micros(value)
        if value.tzinfo is None:
            raise ValueError("the store takes timezone-aware datetimes only")
        return value

    def process_result_value(self, value: object, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int):
            return from_micros(value)
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        raise TypeError(f"unexpected stored time {value!r}")


Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

metadata: Final = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

accounts: Final = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(34), primary_key=True),
    sa.Column("parent_id", sa.String(34), sa.ForeignKey("accounts.id"), nullable=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("auth_token_hash", sa.String(128), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index("ix_accounts_parent_id", "parent_id"),
)

api_keys: Final = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(34), primary_key=True),
    sa.Column("account_id", sa.String(34), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("secret_hash", sa.String(128), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Column("last_used_at", UtcDateTime(), nullable=True),
    sa.Index("ix_api_keys_account_id", "account_id"),
)

numbers: Final = sa.Table(
    "numbers",
    metadata,
    sa.Column("id", sa.String(34), primary_key=True),
    sa.Column("account_id", sa.String(34), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("value", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("inbound_webhook_url", sa.Text(), nullable=True),
    sa.Column("inbound_webhook_method", sa.String(8), nullable=False),
    sa.Column("status_callback_url", sa.Text(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("value", name="uq_numbers_value"),
    sa.Index("ix_numbers_account_id", "account_id"),
)

# The messages table is the queue: the partial indexes below serve the dispatcher's claims.
messages: Final = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.String(34), primary_key=True),
    sa.Column("account_id", sa.String(34), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("from_addr", sa.String(32), nullable=False),
    sa.Column("to_addr", sa.String(32), nullable=False),
    sa.Column("body", sa.Text(), nullable=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("encoding", sa.String(16), nullable=False),
    sa.Column("segments", sa.Integer(), nullable=False),
    sa.Column("data_coding", sa.SmallInteger(), nullable=True),
    sa.Column("priority", sa.SmallInteger(), nullable=False),
    sa.Column("send_at", UtcDateTime(), nullable=True),
    sa.Column("expires_at", UtcDateTime(), nullable=True),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("connector", sa.String(64), nullable=True),
    sa.Column("error_code", sa.String(32), nullable=True),
    sa.Column("error_message", sa.Text(), nullable=True),
    sa.Column("status_callback", sa.Text(), nullable=True),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("event_seq", sa.Integer(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    sa.Column("done_at", UtcDateTime(), nullable=True),
    sa.Column("redacted_at", UtcDateTime(), nullable=True),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claimed_at", UtcDateTime(), nullable=True),
    sa.Column("price", sa.String(16), nullable=True),  # a decimal as text: exact, any currency
    sa.Column("price_unit", sa.String(3), nullable=True),  # ISO 4217
    sa.Index(
        "ix_messages_queue",
        sa.text("priority DESC"),
        "next_attempt_at",
        "id",
        sqlite_where=sa.text("status = 'queued'"),
        postgresql_where=sa.text("status = 'queued'"),
    ),
    sa.Index(
        "ix_messages_scheduled",
        "send_at",
        sqlite_where=sa.text("status = 'scheduled'"),
        postgresql_where=sa.text("status = 'scheduled'"),
    ),
    sa.Index(
        "ix_messages_expiry",
        "expires_at",
        sqlite_where=sa.text("status IN ('queued', 'scheduled') AND expires_at IS NOT NULL"),
        postgresql_where=sa.text("status IN ('queued', 'scheduled') AND expires_at IS NOT NULL"),
    ),
    sa.Index(
        "ix_messages_sending",
        "claimed_at",
        sqlite_where=sa.text("status = 'sending'"),
        postgresql_where=sa.text("status = 'sending'"),
    ),
    sa.Index("ix_messages_account_created", "account_id", "created_at", "id"),
    sa.Index("ix_messages_account_to", "account_id", "to_addr", "created_at"),
    sa.Index("ix_messages_account_from", "account_id", "from_addr", "created_at"),
    # No index on status for listing: every transition would move its entry, and the status
    # filter of a list reads the newest rows of the account in order anyway.
)

message_parts: Final = sa.Table(
    "message_parts",
    metadata,
    sa.Column(
        "message_id",
        sa.String(34),
        sa.ForeignKey("messages.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("part_number", sa.SmallInteger(), primary_key=True),
    sa.Column("connector", sa.String(64), nullable=False),
    sa.Column("smsc_message_id", sa.String(65), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_code", sa.String(32), nullable=True),
    sa.Column("submitted_at", UtcDateTime(), nullable=False),
    sa.Column("receipt_stat", sa.String(16), nullable=True),
    sa.Column("receipt_err", sa.String(16), nullable=True),
    sa.Column("receipt_raw", sa.Text(), nullable=True),
    sa.Column("receipt_at", UtcDateTime(), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index("uq_message_parts_receipt", "connector", "smsc_message_id", unique=True),
    sqlite_with_rowid=False,
)

# Receipts that came before their submit_sm_resp was stored; matched when it is.
early_receipts: Final = sa.Table(
    "early_receipts",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("connector", sa.String(64), nullable=False),
    sa.Column("smsc_message_id", sa.String(65), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("stat", sa.String(16), nullable=True),
    sa.Column("err", sa.String(16), nullable=True),
    sa.Column("raw", sa.Text(), nullable=True),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Index("ix_early_receipts_lookup", "connector", "smsc_message_id"),
    sa.Index("ix_early_receipts_received_at", "received_at"),
)

message_events: Final = sa.Table(
    "message_events",
    metadata,
    sa.Column(
        "message_id",
        sa.String(34),
        sa.ForeignKey("messages.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("seq", sa.Integer(), primary_key=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("details", Json, nullable=False),
    sqlite_with_rowid=False,  # small rows under a composite key: one B-tree instead of two
)

idempotency_keys: Final = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("account_id", sa.String(34), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(128), nullable=False),
    sa.Column("message_id", sa.String(34), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_idempotency_keys_created_at", "created_at"),
    sqlite_with_rowid=False,
)

webhook_outbox: Final = sa.Table(
    "webhook_outbox",
    metadata,
    sa.Column("id", sa.String(34), primary_key=True),
    sa.Column("account_id", sa.String(34), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("message_id", sa.String(34), nullable=True),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("sequence", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("delivered_at", UtcDateTime(), nullable=True),
    sa.Index(
        "ix_webhook_outbox_due",
        "next_attempt_at",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
    sa.Index("ix_webhook_outbox_account_created", "account_id", "created_at", "id"),
    sa.Index("ix_webhook_outbox_message_id", "message_id"),
)

webhook_attempts: Final = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column(
        "delivery_id",
        sa.String(34),
        sa.ForeignKey("webhook_outbox.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("number", sa.Integer(), primary_key=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("status_code", sa.SmallInteger(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("duration_ms", sa.Integer(), nullable=True),
    sqlite_with_rowid=False,
)

# Connectors and routes configured through the API (the TOML file needs no table). Settings are
# kept as given and validated by marconi.config when read, so both sources share one parser.
connectors: Final = sa.Table(
    "connectors",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("settings", Json, nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

routes: Final = sa.Table(
    "routes",
    metadata,
    sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("settings", Json, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# The key each account's webhooks are signed with (HMAC needs it in the clear), and the one it
# replaced, still sent beside it until ``previous_until`` so receivers can switch over.
webhook_secrets: Final = sa.Table(
    "webhook_secrets",
    metadata,
    sa.Column("account_id", sa.String(34), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("secret", sa.Text(), nullable=False),
    sa.Column("previous_secret", sa.Text(), nullable=True),
    sa.Column("previous_until", UtcDateTime(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("rotated_at", UtcDateTime(), nullable=True),
)

# -- Verify ----------------------------------------------------------------------------------------
# Verify services (the settings of one kind of code), verifications (a code's hash and state),
# the sends counted by the fraud guard's velocity limits, and the requests the guard refused.

verify_services: Final = sa.Table(
    "verify_services",
    metadata,
    sa.Column("id", sa.String(34), primary_key=True),
    sa.Column("account_id", sa.String(34), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("code_length", sa.SmallInteger(), nullable=False),
    sa.Column("ttl", sa.Integer(), nullable=False),  # seconds
    sa.Column("max_attempts", sa.SmallInteger(), nullable=False),
    sa.Column("max_sends", sa.Integer(), nullable=False),  # per destination per window
    sa.Column("send_window", sa.Integer(), nullable=False),  # seconds
    sa.Column("prefix_limit", sa.Integer(), nullable=False),  # sends per prefix per window
    sa.Column("country_limit", sa.Integer(), nullable=False),  # sends per country per window
    sa.Column("allowed_countries", Json, nullable=False),  # region codes; empty: any
    sa.Column("template", sa.Text(), nullable=False),
    sa.Column("locale", sa.String(16), nullable=False),
    sa.Column("from_addr", sa.String(32), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index("ix_verify_services_account_id", "account_id", "created_at"),
)

verifications: Final = sa.Table(
    "verifications",
    metadata,
    sa.Column("id", sa.String(34), primary_key=True),
    sa.Column("service_id", sa.String(34), sa.ForeignKey("verify_services.id"), nullable=False),
    sa.Column("account_id", sa.String(34), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("to_addr", sa.String(32), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("code_hash", sa.String(128), nullable=False),  # salt and SHA-256, hex
    sa.Column("attempts", sa.SmallInteger(), nullable=False),
    sa.Column("sends", sa.SmallInteger(), nullable=False),
    sa.Column("message_id", sa.String(34), nullable=True),  # the latest message carrying it
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Index("ix_verifications_destination", "service_id", "to_addr", "created_at"),
)

verify_sends: Final = sa.Table(
    "verify_sends",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("service_id", sa.String(34), nullable=False),
    sa.Column("to_addr", sa.String(32), nullable=False),
    sa.Column("prefix", sa.String(32), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Index("ix_verify_sends_destination", "service_id", "to_addr", "at"),
    sa.Index("ix_verify_sends_prefix", "service_id", "prefix", "at"),
    sa.Index("ix_verify_sends_country", "service_id", "country", "at"),
)

verify_blocks: Final = sa.Table(
    "verify_blocks",
    metadata,
    sa.Column("id", sa.String(34), primary_key=True),
    sa.Column("service_id", sa.String(34), sa.ForeignKey("verify_services.id"), nullable=False),
    sa.Column("account_id", sa.String(34), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("to_addr", sa.String(32), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_verify_blocks_service", "service_id", "created_at", "id"),
)

# -- opt-outs and templates (migration 0008) ------------------------------------------------------

# A destination that asked not to be messaged by the account. ``scope`` is the sender it stopped,
# or '' for every sender of the account (STOPALL, or added through the API without a sender); it
# is part of the key so the send path's check is one lookup on (account_id, to_addr).
opt_outs: Final = sa.Table(
    "opt_outs",
    metadata,
    sa.Column("account_id", sa.String(34), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("to_addr", sa.String(32), primary_key=True),
    sa.Column("scope", sa.String(32), primary_key=True),
    sa.Column("source", sa.String(16), nullable=False),  # keyword | api
    sa.Column("keyword", sa.String(32), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sqlite_with_rowid=False,
)

# Each account's inbound keywords and reply texts, as validated by marconi.services.optout.
keyword_settings: Final = sa.Table(
    "keyword_settings",
    metadata,
    sa.Column("account_id", sa.String(34), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("settings", Json, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

templates: Final = sa.Table(
    "templates",
    metadata,
    sa.Column("id", sa.String(34), primary_key=True),
    sa.Column("account_id", sa.String(34), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("default_locale", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("account_id", "name", name="uq_templates_account_id_name"),
)

# Versions are numbered per locale and never change once written, so they can be cached.
template_versions: Final = sa.Table(
    "template_versions",
    metadata,
    sa.Column(
        "template_id",
        sa.String(34),
        sa.ForeignKey("templates.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("locale", sa.String(16), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("variables", Json, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sqlite_with_rowid=False,
)


# -- Twilio-compatible API (migration 0006) --------------------------------------------------------
# Each account's auth token in the clear: X-Twilio-Signature is an HMAC keyed by it, so it must be
# readable (as webhook_secrets are). Logins still check accounts.auth_token_hash.
auth_tokens: Final = sa.Table(
    "auth_tokens",
    metadata,
    sa.Column("account_id", sa.String(34), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("token", sa.Text(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)


# A messaging service: a pool of the account's numbers to send from, with defaults for the
# messages sent through it. A number belongs to one service at most.
messaging_services: Final = sa.Table(
    "messaging_services",
    metadata,
    sa.Column("id", sa.String(34), primary_key=True),
    sa.Column("account_id", sa.String(34), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("friendly_name", sa.String(200), nullable=False),
    sa.Column("status_callback", sa.Text(), nullable=True),
    sa.Column("inbound_request_url", sa.Text(), nullable=True),
    sa.Column("inbound_method", sa.String(8), nullable=False),
    sa.Column("use_inbound_webhook_on_number", sa.Boolean(), nullable=False),
    sa.Column("sticky_sender", sa.Boolean(), nullable=False),
    sa.Column("validity_period", sa.Integer(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index("ix_messaging_services_account_id", "account_id", "created_at"),
)

messaging_service_numbers: Final = sa.Table(
    "messaging_service_numbers",
    metadata,
    sa.Column(
        "service_id",
        sa.String(34),
        sa.ForeignKey("messaging_services.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "number_id",
        sa.String(34),
        sa.ForeignKey("numbers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("number_id", name="uq_messaging_service_numbers_number_id"),
)
