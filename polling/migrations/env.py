"""Alembic's entry point; polling.schema runs it on a connection it opens itself."""

from __future__ import annotations

from alembic import context

from polling.database import Base
from polling.domain import models  # noqa: F401 - registers the tables on Base.metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot alter a column or constraint in place; batch mode copies the table.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
