"""The tables of polling 0.1.0, the last version before migrations.

Databases made before migrations existed have some or all of these tables already (the app
created missing tables at every start), so each is created only where it is missing.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Timestamps are stored in UTC (polling.models.UTCDateTime adds the zone back on SQLite).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())

    def create(name: str, *columns_and_constraints: sa.schema.SchemaItem) -> bool:
        if name in existing:
            return False
        op.create_table(name, *columns_and_constraints)
        return True

    if create(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(6), nullable=False, unique=True),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("deck_name", sa.String(200), nullable=False),
        sa.Column("presenter_key", sa.String(64), nullable=False),
        sa.Column("moderator_key", sa.String(64), nullable=False),
        sa.Column("results_mode", sa.String(8), nullable=False),
        sa.Column("current_position", sa.Integer(), nullable=False),
        sa.Column("results_revealed", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    ):
        op.create_index("ix_events_deck_name", "events", ["deck_name"])
    create(
        "participants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "event_id", sa.Integer(), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("joined_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("event_id", "token_digest"),
    )
    create(
        "statements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "event_id", sa.Integer(), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.UniqueConstraint("event_id", "key"),
        sa.UniqueConstraint("event_id", "position"),
    )
    create(
        "options",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "statement_id",
            sa.Integer(),
            sa.ForeignKey("statements.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.UniqueConstraint("statement_id", "key"),
    )
    create(
        "rounds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "statement_id",
            sa.Integer(),
            sa.ForeignKey("statements.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.UniqueConstraint("statement_id", "number"),
    )
    create(
        "round_archives",
        sa.Column(
            "round_id",
            sa.Integer(),
            sa.ForeignKey("rounds.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("purged_at", TIMESTAMP, nullable=False),
    )
    if create(
        "votes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "round_id", sa.Integer(), sa.ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "participant_id",
            sa.Integer(),
            sa.ForeignKey("participants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "option_id",
            sa.Integer(),
            sa.ForeignKey("options.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("cast_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("round_id", "participant_id", name="one_vote_per_round"),
    ):
        op.create_index("ix_votes_round_id", "votes", ["round_id"])


def downgrade() -> None:
    for table in ("votes", "round_archives", "rounds", "options", "statements", "participants"):
        op.drop_table(table)
    op.drop_index("ix_events_deck_name", "events")
    op.drop_table("events")
