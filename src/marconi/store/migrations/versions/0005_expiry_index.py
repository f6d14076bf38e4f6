"""An index for expiring waiting messages, so expiry never scans the whole table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WHERE = sa.text("status IN ('queued', 'scheduled') AND expires_at IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_messages_expiry",
        "messages",
        ["expires_at"],
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_expiry", table_name="messages")
