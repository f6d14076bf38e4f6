"""The first schema: accounts, keys, numbers, messages (the queue), parts, receipts, events,
idempotency keys and the webhook outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from marconi.store.schema import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _id(name: str = "id", *, primary_key: bool = False, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(34), primary_key=primary_key, nullable=nullable)


def _partial(status: str) -> dict[str, Any]:
    where = sa.text(f"status = '{status}'")
    return {"sqlite_where": where, "postgresql_where": where}


def upgrade() -> None:
    op.create_table(
        "accounts",
        _id(primary_key=True),
        _id("parent_id", nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("auth_token_hash", sa.String(128), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["accounts.id"], name="fk_accounts_parent_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
    )
    op.create_index("ix_accounts_parent_id", "accounts", ["parent_id"])

    op.create_table(
        "api_keys",
        _id(primary_key=True),
        _id("account_id", nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(128), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("last_used_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_api_keys_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
    )
    op.create_index("ix_api_keys_account_id", "api_keys", ["account_id"])

    op.create_table(
        "numbers",
        _id(primary_key=True),
        _id("account_id", nullable=False),
        sa.Column("value", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("inbound_webhook_url", sa.Text(), nullable=True),
        sa.Column("inbound_webhook_method", sa.String(8), nullable=False),
        sa.Column("status_callback_url", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_numbers_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_numbers"),
        sa.UniqueConstraint("value", name="uq_numbers_value"),
    )
    op.create_index("ix_numbers_account_id", "numbers", ["account_id"])

    op.create_table(
        "messages",
        _id(primary_key=True),
        _id("account_id", nullable=False),
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
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("done_at", UtcDateTime(), nullable=True),
        sa.Column("redacted_at", UtcDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_messages_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
    )
    op.create_index(
        "ix_messages_queue",
        "messages",
        [sa.text("priority DESC"), "next_attempt_at", "id"],
        **_partial("queued"),
    )
    op.create_index("ix_messages_scheduled", "messages", ["send_at"], **_partial("scheduled"))
    op.create_index("ix_messages_sending", "messages", ["claimed_at"], **_partial("sending"))
    op.create_index("ix_messages_account_created", "messages", ["account_id", "created_at", "id"])
    op.create_index("ix_messages_account_to", "messages", ["account_id", "to_addr", "created_at"])
    op.create_index(
        "ix_messages_account_from", "messages", ["account_id", "from_addr", "created_at"]
    )

    op.create_table(
        "message_parts",
        _id("message_id", nullable=False),
        sa.Column("part_number", sa.SmallInteger(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_message_parts_message_id_messages",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "part_number", name="pk_message_parts"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "uq_message_parts_receipt",
        "message_parts",
        ["connector", "smsc_message_id"],
        unique=True,
    )

    op.create_table(
        "early_receipts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            autoincrement=True,
        ),
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("smsc_message_id", sa.String(65), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stat", sa.String(16), nullable=True),
        sa.Column("err", sa.String(16), nullable=True),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_early_receipts"),
    )
    op.create_index("ix_early_receipts_lookup", "early_receipts", ["connector", "smsc_message_id"])
    op.create_index("ix_early_receipts_received_at", "early_receipts", ["received_at"])

    op.create_table(
        "message_events",
        _id("message_id", nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("details", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_message_events_message_id_messages",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "seq", name="pk_message_events"),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "idempotency_keys",
        _id("account_id", nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(128), nullable=False),
        _id("message_id", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_idempotency_keys_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("account_id", "key", name="pk_idempotency_keys"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])

    op.create_table(
        "webhook_outbox",
        _id(primary_key=True),
        _id("account_id", nullable=False),
        _id("message_id", nullable=True),
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
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_webhook_outbox_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_outbox"),
    )
    op.create_index(
        "ix_webhook_outbox_due",
        "webhook_outbox",
        ["next_attempt_at"],
        **_partial("pending"),
    )
    op.create_index(
        "ix_webhook_outbox_account_created", "webhook_outbox", ["account_id", "created_at", "id"]
    )
    op.create_index("ix_webhook_outbox_message_id", "webhook_outbox", ["message_id"])

    op.create_table(
        "webhook_attempts",
        _id("delivery_id", nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_outbox.id"],
            name="fk_webhook_attempts_delivery_id_webhook_outbox",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", "number", name="pk_webhook_attempts"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    for table in (
        "webhook_attempts",
        "webhook_outbox",
        "idempotency_keys",
        "message_events",
        "early_receipts",
        "message_parts",
        "messages",
        "numbers",
        "api_keys",
        "accounts",
    ):
        op.drop_table(table)
