"""Schema migrations: new databases are created, old ones are refused until upgraded, and an
upgrade keeps every event, vote and archived count."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from polling import create_app, db, schema
from polling.cli import cli
from polling.database import Base
from polling.schema import SchemaError
from tests.support import app_settings, download

BEFORE_MIGRATIONS = Path(__file__).parent / "data" / "database-before-migrations.sql"


def schema_differences(url: str) -> list:
    """What Alembic would still change to make the database match the models."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_a_new_sqlite_database_is_created_at_the_newest_revision(tmp_path):
    create_app(app_settings(tmp_path))
    with db.engine.connect() as connection:
        assert schema.current_revision(connection) == schema.head_revision()
    assert schema_differences(db.engine.url.render_as_string(hide_password=False)) == []


def test_a_new_postgres_database_matches_the_models(tmp_path, postgres_url):
    create_app({**app_settings(tmp_path), "DATABASE_URL": postgres_url})
    with db.engine.connect() as connection:
        assert schema.current_revision(connection) == schema.head_revision()
    db.engine.dispose()
    assert schema_differences(postgres_url) == []


def legacy_database(tmp_path: Path) -> dict:
    """Settings for an app on a copy of a database made before migrations existed."""
    settings = app_settings(tmp_path)
    path = tmp_path / "polling.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.executescript(BEFORE_MIGRATIONS.read_text(encoding="utf-8"))
    return settings


def test_the_app_refuses_an_old_database_and_names_the_upgrade_command(tmp_path):
    settings = legacy_database(tmp_path)
    with pytest.raises(SchemaError, match="polling db upgrade"):
        create_app(settings)

    result = CliRunner().invoke(cli, ["event", "list"], env=cli_environment(settings))
    assert result.exit_code == 1
    assert "Back it up, then run: polling db upgrade" in result.output
    assert "Traceback" not in result.output


def test_upgrade_keeps_every_event_vote_and_archived_count(tmp_path):
    settings = legacy_database(tmp_path)
    before = table_rows(tmp_path / "polling.sqlite3")

    runner = CliRunner()
    status = runner.invoke(cli, ["db", "status"], env=cli_environment(settings))
    assert "revision none" in status.output and "polling db upgrade" in status.output
    result = runner.invoke(cli, ["db", "upgrade"], env=cli_environment(settings))
    assert result.exit_code == 0, result.output
    assert f"from revision none to {schema.head_revision()}" in result.output
    again = runner.invoke(cli, ["db", "upgrade"], env=cli_environment(settings))
    assert "is up to date" in again.output

    after = table_rows(tmp_path / "polling.sqlite3")
    for table, rows in before.items():
        assert [row[: len(rows[0])] for row in after[table]] == rows, table
    url = f"sqlite:///{tmp_path / 'polling.sqlite3'}"
    assert schema_differences(url) == []

    app = create_app(settings)
    with db.session() as session:
        from polling.domain.events import list_events

        purged, kept = sorted(list_events(session), key=lambda event: event.id)
    for event, votes in ((purged, 0), (kept, 5)):
        results = json.loads(download(app, event, "results.json").get_data(True))
        assert len(results["votes"]) == votes
        first_round = results["statements"][0]["rounds"][0]
        assert first_round["counts"] == {"agree": 2, "disagree": 1}


def test_a_database_from_a_newer_version_is_refused(tmp_path):
    settings = app_settings(tmp_path)
    create_app(settings)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'from-the-future'"))
    with pytest.raises(SchemaError, match="upgraded by a newer version"):
        create_app(settings)


def table_rows(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'alembic_version'"
            )
        ]
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in tables
        }


def cli_environment(settings: dict) -> dict[str, str]:
    return {
        "DATABASE_URL": str(settings["DATABASE_URL"]),
        "POLLING_INSTANCE_PATH": str(settings["INSTANCE_PATH"]),
    }


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_each_migration_keeps_the_rows_before_it(tmp_path, request, backend):
    """An event made at revision 0001 comes through every later revision with its columns
    filled (a deck without a panel or facts gives empty lists)."""
    from alembic import command

    url = (
        request.getfixturevalue("postgres_url")
        if backend == "postgres"
        else f"sqlite:///{tmp_path / 'old.sqlite3'}"
    )
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            config = schema._config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
            connection.execute(
                text(
                    "INSERT INTO events (id, code, title, language, deck_name, presenter_key,"
                    " moderator_key, results_mode, current_position, results_revealed,"
                    " created_at) VALUES (1, '123456', '{\"nl\": \"Oud\"}', 'nl', 'old.toml',"
                    " 'p', 'm', 'hidden', 0, false, '2025-01-01 10:00:00+00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO statements (id, event_id, position, key, texts)"
                    ' VALUES (1, 1, 1, \'one\', \'{"nl": {"statement": "S"}}\')'
                )
            )
        before, after = schema.upgrade(engine)
        assert (before, after) == ("0001", schema.head_revision())
        with engine.connect() as connection:
            assert connection.execute(text("SELECT panel FROM events")).scalar_one() in ([], "[]")
            assert connection.execute(text("SELECT facts FROM statements")).scalar_one() in (
                [],
                "[]",
            )
    finally:
        engine.dispose()
    assert schema_differences(url) == []
