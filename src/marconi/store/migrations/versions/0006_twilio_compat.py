"""Twilio-compatible API: auth tokens kept for signing X-Twilio-Signature; messaging services
(sender pools) and their numbers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from marconi.store.schema import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_tokens",
        sa.Column("account_id", sa.String(34), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_auth_tokens_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_auth_tokens"),
    )
    op.create_table(
        "messaging_services",
        sa.Column("id", sa.String(34), nullable=False),
        sa.Column("account_id", sa.String(34), nullable=False),
        sa.Column("friendly_name", sa.String(200), nullable=False),
        sa.Column("status_callback", sa.Text(), nullable=True),
        sa.Column("inbound_request_url", sa.Text(), nullable=True),
        sa.Column("inbound_method", sa.String(8), nullable=False),
        sa.Column("use_inbound_webhook_on_number", sa.Boolean(), nullable=False),
        sa.Column("sticky_sender", sa.Boolean(), nullable=False),
        sa.Column("validity_period", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_messaging_services_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_messaging_services"),
    )
    op.create_index(
        "ix_messaging_services_account_id", "messaging_services", ["account_id", "created_at"]
    )
    op.create_table(
        "messaging_service_numbers",
        sa.Column("service_id", sa.String(34), nullable=False),
        sa.Column("number_id", sa.String(34), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["messaging_services.id"],
            name="fk_messaging_service_numbers_service_id_messaging_services",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["number_id"],
            ["numbers.id"],
            name="fk_messaging_service_numbers_number_id_numbers",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", "number_id", name="pk_messaging_service_numbers"),
        sa.UniqueConstraint("number_id", name="uq_messaging_service_numbers_number_id"),
    )


def downgrade() -> None:
    op.drop_table("messaging_service_numbers")
    op.drop_index("ix_messaging_services_account_id", table_name="messaging_services")
    op.drop_table("messaging_services")
    op.drop_table("auth_tokens")
