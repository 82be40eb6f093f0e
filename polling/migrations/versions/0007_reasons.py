"""The audience's reasons for a vote: reasons, their upvotes, and the switches for them.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of `statements` would drop the old table, which on
    # SQLite cascade-deletes its options and rounds.
    op.add_column(
        "question_settings",
        sa.Column("reasons", sa.String(16), nullable=False, server_default="open"),
    )
    op.add_column(
        "question_settings",
        sa.Column("reasons_premoderation", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "statements",
        sa.Column("reasons_shown", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "reasons",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "event_id", sa.Integer(), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "statement_id",
            sa.Integer(),
            sa.ForeignKey("statements.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "round_id", sa.Integer(), sa.ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "participant_id",
            sa.Integer(),
            sa.ForeignKey("participants.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("text", sa.String(200), nullable=False),
        sa.Column("original_text", sa.String(200), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("held", sa.String(16), nullable=True),
        sa.Column("picked", sa.Boolean(), nullable=False),
        sa.Column("archived_choice", sa.String(32), nullable=True),
        sa.Column("archived_previous", sa.String(32), nullable=True),
        sa.Column("archived_upvotes", sa.Integer(), nullable=True),
        sa.Column("written_at", TIME, nullable=False),
        sa.Column("approved_at", TIME, nullable=True),
        sa.Column("picked_at", TIME, nullable=True),
        sa.UniqueConstraint("round_id", "participant_id", name="one_reason_per_round"),
    )
    op.create_index("ix_reasons_event_id", "reasons", ["event_id"])
    op.create_index("ix_reasons_statement_id", "reasons", ["statement_id"])
    op.create_index("ix_reasons_participant_id", "reasons", ["participant_id"])
    op.create_table(
        "reason_votes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "reason_id",
            sa.Integer(),
            sa.ForeignKey("reasons.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "participant_id",
            sa.Integer(),
            sa.ForeignKey("participants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("cast_at", TIME, nullable=False),
        sa.UniqueConstraint("reason_id", "participant_id", name="one_upvote_per_reason"),
    )
    op.create_index("ix_reason_votes_reason_id", "reason_votes", ["reason_id"])
    op.create_index("ix_reason_votes_participant_id", "reason_votes", ["participant_id"])


def downgrade() -> None:
    op.drop_table("reason_votes")
    op.drop_table("reasons")
    op.drop_column("statements", "reasons_shown")
    op.drop_column("question_settings", "reasons_premoderation")
    op.drop_column("question_settings", "reasons")
