"""Decks may name the panel members and give context facts per statement.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing events had neither: an empty list, as a deck without them gives.
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("panel", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("statements") as batch:
        batch.add_column(sa.Column("facts", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("statements") as batch:
        batch.drop_column("facts")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("panel")
