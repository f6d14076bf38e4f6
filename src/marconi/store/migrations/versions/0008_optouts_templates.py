"""Opt-out compliance and templates: opt-outs, keyword settings, templates and their versions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from marconi.store.schema import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"], ["accounts.id"], name=f"fk_{table}_account_id_accounts"
    )


def upgrade() -> None:
    op.create_table(
        "opt_outs",
        sa.Column("account_id", sa.String(34), nullable=False),
        sa.Column("to_addr", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("keyword", sa.String(32), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        _account_fk("opt_outs"),
        sa.PrimaryKeyConstraint("account_id", "to_addr", "scope", name="pk_opt_outs"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "keyword_settings",
        sa.Column("account_id", sa.String(34), nullable=False),
        sa.Column("settings", _json(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        _account_fk("keyword_settings"),
        sa.PrimaryKeyConstraint("account_id", name="pk_keyword_settings"),
    )
    op.create_table(
        "templates",
        sa.Column("id", sa.String(34), nullable=False),
        sa.Column("account_id", sa.String(34), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("default_locale", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        _account_fk("templates"),
        sa.PrimaryKeyConstraint("id", name="pk_templates"),
        sa.UniqueConstraint("account_id", "name", name="uq_templates_account_id_name"),
    )
    op.create_table(
        "template_versions",
        sa.Column("template_id", sa.String(34), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("variables", _json(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["templates.id"],
            name="fk_template_versions_template_id_templates",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("template_id", "locale", "version", name="pk_template_versions"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    for table in ("template_versions", "templates", "keyword_settings", "opt_outs"):
        op.drop_table(table)
