"""Verify: services, verifications, send counts and fraud-guard blocks.

The priority class needs no column: ``messages.priority`` and the queue index ordered by it come
from 0001.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from marconi.store.schema import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "verify_services",
        sa.Column("id", sa.String(34), nullable=False),
        sa.Column("account_id", sa.String(34), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("code_length", sa.SmallInteger(), nullable=False),
        sa.Column("ttl", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.SmallInteger(), nullable=False),
        sa.Column("max_sends", sa.Integer(), nullable=False),
        sa.Column("send_window", sa.Integer(), nullable=False),
        sa.Column("prefix_limit", sa.Integer(), nullable=False),
        sa.Column("country_limit", sa.Integer(), nullable=False),
        sa.Column("allowed_countries", Json, nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("from_addr", sa.String(32), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_verify_services_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_verify_services"),
    )
    op.create_index(
        "ix_verify_services_account_id", "verify_services", ["account_id", "created_at"]
    )
    op.create_table(
        "verifications",
        sa.Column("id", sa.String(34), nullable=False),
        sa.Column("service_id", sa.String(34), nullable=False),
        sa.Column("account_id", sa.String(34), nullable=False),
        sa.Column("to_addr", sa.String(32), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("code_hash", sa.String(128), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("sends", sa.SmallInteger(), nullable=False),
        sa.Column("message_id", sa.String(34), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["verify_services.id"],
            name="fk_verifications_service_id_verify_services",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_verifications_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_verifications"),
    )
    op.create_index(
        "ix_verifications_destination", "verifications", ["service_id", "to_addr", "created_at"]
    )
    op.create_table(
        "verify_sends",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("service_id", sa.String(34), nullable=False),
        sa.Column("to_addr", sa.String(32), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_verify_sends"),
    )
    for name, column in (
        ("ix_verify_sends_destination", "to_addr"),
        ("ix_verify_sends_prefix", "prefix"),
        ("ix_verify_sends_country", "country"),
    ):
        op.create_index(name, "verify_sends", ["service_id", column, "at"])
    op.create_table(
        "verify_blocks",
        sa.Column("id", sa.String(34), nullable=False),
        sa.Column("service_id", sa.String(34), nullable=False),
        sa.Column("account_id", sa.String(34), nullable=False),
        sa.Column("to_addr", sa.String(32), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["verify_services.id"],
            name="fk_verify_blocks_service_id_verify_services",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_verify_blocks_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_verify_blocks"),
    )
    op.create_index("ix_verify_blocks_service", "verify_blocks", ["service_id", "created_at", "id"])


def downgrade() -> None:
    for table in ("verify_blocks", "verify_sends", "verifications", "verify_services"):
        op.drop_table(table)
