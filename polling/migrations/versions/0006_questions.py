"""The audience's questions: settings per event, questions, upvotes, muted phones.

Revision ID: 0006
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "question_settings",
        sa.Column(
            "event_id",
            sa.Integer(),
            sa.ForeignKey("events.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("names", sa.String(16), nullable=False),
        sa.Column("premoderation", sa.Boolean(), nullable=False),
        sa.Column("blocklist", sa.JSON(), nullable=False),
        sa.Column("view", sa.String(16), nullable=False),
    )
    # Events made before questions existed: questions open, names optional, pre-moderated.
    op.execute(
        "INSERT INTO question_settings (event_id, mode, names, premoderation, blocklist, view) "
        "SELECT id, 'open', 'optional', true, '[]', 'statements' FROM events"
    )
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "event_id", sa.Integer(), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "participant_id",
            sa.Integer(),
            sa.ForeignKey("participants.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("text", sa.String(300), nullable=False),
        sa.Column("original_text", sa.String(300), nullable=True),
        sa.Column("normalised", sa.String(300), nullable=False),
        sa.Column("name", sa.String(60), nullable=True),
        sa.Column("panel_member", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("held", sa.String(16), nullable=True),
        sa.Column(
            "similar_to_id",
            sa.Integer(),
            sa.ForeignKey("questions.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "merged_into_id",
            sa.Integer(),
            sa.ForeignKey("questions.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("archived_upvotes", sa.Integer(), nullable=True),
        sa.Column("asked_at", TIME, nullable=False),
        sa.Column("approved_at", TIME, nullable=True),
        sa.Column("on_screen_at", TIME, nullable=True),
        sa.Column("answered_at", TIME, nullable=True),
        sa.UniqueConstraint("event_id", "number", name="one_number_per_question"),
    )
    op.create_index("ix_questions_event_normalised", "questions", ["event_id", "normalised"])
    op.create_index("ix_questions_participant_id", "questions", ["participant_id"])
    op.create_table(
        "question_votes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "question_id",
            sa.Integer(),
            sa.ForeignKey("questions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "participant_id",
            sa.Integer(),
            sa.ForeignKey("participants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("cast_at", TIME, nullable=False),
        sa.UniqueConstraint("question_id", "participant_id", name="one_upvote_per_question"),
    )
    op.create_index("ix_question_votes_question_id", "question_votes", ["question_id"])
    op.create_index("ix_question_votes_participant_id", "question_votes", ["participant_id"])
    op.create_table(
        "question_mutes",
        sa.Column(
            "event_id",
            sa.Integer(),
            sa.ForeignKey("events.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "participant_id",
            sa.Integer(),
            sa.ForeignKey("participants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("muted_at", TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("question_mutes")
    op.drop_table("question_votes")
    op.drop_table("questions")
    op.drop_table("question_settings")
