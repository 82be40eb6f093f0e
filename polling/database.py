"""The database connection: one engine per app, short-lived sessions per unit of work."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool


class Base(DeclarativeBase):
    """Base class of all models."""


# What a read takes: an ORM session, or a Core connection where every phone of a hall reads
# (a phone's connect, a phone waking up): a session costs about as much as two reads more
# (50 us of CPU each, measured in-process) and a connect used two.
Reader = Session | Connection


def connection_of(reader: Reader) -> Connection:
    """The Core connection a reader runs its statements on."""
    return reader if isinstance(reader, Connection) else reader.connection()


@contextlib.contextmanager
def orm_session(reader: Reader) -> Iterator[Session]:
    """A session for the ORM's reads: the reader itself, or one in the connection's
    transaction (the rare reads that need the ORM, inside a connection's work)."""
    if isinstance(reader, Session):
        yield reader
        return
    with Session(bind=reader) as session:
        yield session


class Database:
    """Owns the engine and hands out sessions; initialised by `create_app`."""

    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None

    @property
    def engine(self) -> Engine:
        """The app's engine; raises if `create_app` has not run."""
        if self._engine is None:
            raise RuntimeError("the database is not initialised: call create_app() first")
        return self._engine

    def init_app(self, app: Flask, *, check_schema: bool = True) -> None:
        """Connect to the configured database; create it if new, refuse it if out of date.

        Only `polling db upgrade` and `polling db status` connect without the check.
        """
        url = app.config["DATABASE_URL"] or default_sqlite_url(Path(app.instance_path))
        app.config["DATABASE_URL"] = url
        if self._engine is not None:
            self._engine.dispose()
        self._engine = make_engine(url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        if check_schema:
            from polling.schema import ensure_current

            ensure_current(self._engine)

    def dedicated_engine(self) -> Engine:
        """A second engine on the same database, for the vote writer."""
        return make_engine(self.engine.url.render_as_string(hide_password=False), dedicated=True)

    def session(self) -> Session:
        """A new session; use it as a context manager and commit explicitly."""
        if self._sessions is None:
            raise RuntimeError("the database is not initialised: call create_app() first")
        return self._sessions()

    def connect(self) -> Connection:
        """A new Core connection for reads (see `Reader`); use it as a context manager."""
        return self.engine.connect()


def create_private(url: str) -> None:
    """Create a SQLite database file readable by its owner only (it holds every event's keys
    and the organiser's password hash); SQLite gives its WAL and shared-memory files the
    same mode. An existing file keeps its mode."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def default_sqlite_url(instance_path: Path) -> str:
    """A SQLite file in the instance folder, which is outside version control."""
    instance_path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance_path / 'polling.sqlite3'}"


def make_engine(url: str, *, dedicated: bool = False) -> Engine:
    """Create an engine; SQLite gets the pragmas that make a "✓" durable.

    A dedicated engine has no pool: its user holds one connection for itself (the vote
    writer, which uses it from OS threads, away from the event loop's pool).
    """
    pooling: dict[str, Any] = {"poolclass": NullPool} if dedicated else {}
    if not url.startswith("sqlite"):
        if not dedicated:
            pooling = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}
        return create_engine(url, **pooling)
    create_private(url)
    # The vote writer's connection moves between OS threads (one batch at a time).
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **pooling)

    @event.listens_for(engine, "connect")
    def set_sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers (tallies, state) run while a vote is written;
        # synchronous=FULL keeps a committed vote through a power cut, not just a crash.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine
