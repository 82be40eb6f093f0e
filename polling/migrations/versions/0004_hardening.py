"""Ids are never reused (SQLite AUTOINCREMENT); an event may expect an audience size;
logging out of the organiser area ends that login on the server.

A deleted event's id, and its participants' and rounds' ids, came back on SQLite for the next
event: a page still open on the old event then acted on the new one. PostgreSQL sequences
never reuse a value, so only SQLite's tables are rebuilt, with AUTOINCREMENT.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Each is copied into a new table with AUTOINCREMENT, parents first.
TABLES = ("events", "statements", "options", "rounds", "participants", "votes")


def upgrade() -> None:
    op.create_table(
        "ended_logins",
        sa.Column("login_id", sa.String(32), primary_key=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ended_logins_ended_at", "ended_logins", ["ended_at"])
    if op.get_bind().dialect.name != "sqlite":
        for column in _audience_columns():
            op.add_column("events", column)
        return
    with _foreign_keys_off():
        for table in TABLES:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ) as batch:
                for column in _audience_columns() if table == "events" else ():
                    batch.add_column(column)


def downgrade() -> None:
    op.drop_index("ix_ended_logins_ended_at", "ended_logins")
    op.drop_table("ended_logins")
    if op.get_bind().dialect.name != "sqlite":
        for column in _audience_columns():
            op.drop_column("events", column.name)
        return
    with _foreign_keys_off():
        for table in TABLES:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": False}
            ) as batch:
                for column in _audience_columns() if table == "events" else ():
                    batch.drop_column(column.name)


def _audience_columns() -> list[sa.Column]:
    return [
        sa.Column("expected_audience", sa.Integer(), nullable=True),
        sa.Column("audience_cap", sa.Boolean(), nullable=False, server_default=sa.false()),
    ]


@contextmanager
def _foreign_keys_off() -> Iterator[None]:
    """Copying a parent table (SQLite's only way to change one) drops the old copy, which
    cascade-deletes its children while foreign keys are enforced; SQLite turns them off only
    outside a transaction, so what came before is committed first. The keys are checked
    after the copies, which are committed before the keys are enforced again."""
    connection = op.get_bind()
    if connection.connection.in_transaction:
        connection.connection.commit()
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    if connection.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("could not turn SQLite's foreign keys off to copy the tables")
    try:
        yield
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"copying the tables broke foreign keys: {broken[:5]}")
    except BaseException:
        connection.connection.rollback()
        raise
    else:
        connection.connection.commit()
    finally:
        # Outside a transaction again, or the connection would go back to the pool unguarded.
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
