"""Twilio-compatible API: auth tokens kept for signing X-Twilio-Signature.

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


def downgrade() -> None:
    op.drop_table("auth_tokens")
