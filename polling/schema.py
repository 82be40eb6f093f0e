"""Schema migrations (Alembic): an event database survives an upgrade of the app.

A new, empty database is created at the newest revision when the app starts. A database at an
older revision is never changed behind the organiser's back: the app refuses to start and says
which command upgrades it, so they can take a copy first. `polling db upgrade` also adopts a
database made before migrations existed (its tables were made without a revision stamp).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS = Path(__file__).parent / "migrations"
UPGRADE_COMMAND = "polling db upgrade"
# Two server processes starting on one new PostgreSQL database must not both create it.
POSTGRES_LOCK_ID = 0x706F6C6C  # "poll"


class SchemaError(RuntimeError):
    """The database's schema is not the one this version of the app works with."""


def head_revision() -> str:
    """The newest revision this version of the app knows."""
    head = _scripts().get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is stamped with; None if it has none."""
    return MigrationContext.configure(connection).get_current_revision()


def ensure_current(engine: Engine) -> None:
    """Create a new database, accept a current one, refuse an old or newer one."""
    with _migration_lock(engine) as connection:
        revision = current_revision(connection)
        if revision is None and not _has_tables(connection):
            _upgrade(connection)
            return
    head = head_revision()
    if revision == head:
        return
    where = engine.url.render_as_string(hide_password=True)
    if revision is None:
        raise SchemaError(
            f"The database {where} was made by a version of polling before schema "
            f"migrations. Back it up, then run: {UPGRADE_COMMAND}"
        )
    if not _is_known(revision):
        raise SchemaError(
            f"The database {where} is at revision {revision}, which this version of polling "
            f"does not know: it was upgraded by a newer version. Run that version."
        )
    raise SchemaError(
        f"The database {where} is at revision {revision}; this version of polling needs "
        f"{head}. Back it up, then run: {UPGRADE_COMMAND}"
    )


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the database to the newest revision; return (from, to)."""
    with _migration_lock(engine) as connection:
        before = current_revision(connection)
        _upgrade(connection)
        return before, current_revision(connection) or ""


def _upgrade(connection: Connection) -> None:
    config = _config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": POSTGRES_LOCK_ID})
        yield connection


def _has_tables(connection: Connection) -> bool:
    return bool(inspect(connection).get_table_names())


def _is_known(revision: str) -> bool:
    return any(script.revision == revision for script in _scripts().walk_revisions())


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config
