"""The app factory and the two singletons every layer shares: the database and Socket.IO."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from flask_socketio import SocketIO

from polling.config import asset_path, load_settings
from polling.database import Database
from polling.web.sessions import SessionInterface

db = Database()
socketio = SocketIO()

# Socket.IO messages of this app are a few hundred bytes; the 1 MB default only invites abuse.
MAX_MESSAGE_BYTES = 16 * 1024
# Whoever knows the secret key can forge any cookie: a short one can be guessed offline.
MIN_SECRET_KEY_LENGTH = 32


def create_app(config: dict[str, Any] | None = None, *, check_schema: bool = True) -> Flask:
    """Build the app: settings, database, pages and the real-time channel.

    Raises polling.schema.SchemaError if the database needs `polling db upgrade` first.
    """
    settings = load_settings(config)
    app = Flask(
        __name__,
        instance_path=settings.get("INSTANCE_PATH") or os.environ.get("POLLING_INSTANCE_PATH"),
        template_folder=str(asset_path("templates")),
        static_folder=str(asset_path("static")),
    )
    app.config.update(settings)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))
    if len(app.config["SECRET_KEY"]) < MIN_SECRET_KEY_LENGTH:
        raise SystemExit(
            f"POLLING_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters "
            "(python3 -c 'import secrets; print(secrets.token_hex(32))' makes one)"
        )
    public_url = app.config.get("PUBLIC_URL") or ""
    app.config.update(
        SESSION_COOKIE_NAME="polling",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=14 * 24 * 3600,
    )

    # Socket handlers must be registered before the first init_app: Flask-SocketIO keeps
    # handlers declared before it for every later app (each test builds a new one).
    from polling import realtime
    from polling.realtime.closing import client_manager
    from polling.realtime.packets import TextPacket
    from polling.web import (
        compression,
        operations,
        organiser,
        pages,
        questions_page,
        results_page,
    )

    app.session_interface = SessionInterface()
    db.init_app(app, check_schema=check_schema)
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        # Rooms in memory or shared through the message queue (a redis:// URL); closing one
        # disconnects its members on every process.
        client_manager=client_manager(app.config["MESSAGE_QUEUE"], app.config["MESSAGE_CHANNEL"]),
        max_http_buffer_size=MAX_MESSAGE_BYTES,
        serializer=TextPacket,
        # Same-origin only (the default), stated here so nobody loosens it by accident.
        cors_allowed_origins=None,
    )

    pages.init_app(app)
    compression.init_app(app)
    results_page.init_app(app)
    organiser.init_app(app)
    operations.init_app(app)
    questions_page.init_app(app)
    realtime.init_app(app)
    return app


def _instance_secret_key(instance_path: Path) -> str:
    """A secret generated on first run and kept in the instance folder, never in the repo."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    try:
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made by an earlier run, or by another server process just now
    else:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    key = key_file.read_text().strip()
    if len(key) < MIN_SECRET_KEY_LENGTH:
        # Left empty or cut short by a crash between create and write: every cookie signed
        # with it would fail. Replace it whole (rename is atomic), then read what is there.
        spare = instance_path / f"secret_key.{os.getpid()}"
        descriptor = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
        os.replace(spare, key_file)
        key = key_file.read_text().strip()
    return key
