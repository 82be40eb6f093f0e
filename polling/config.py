"""Settings: defaults, then the environment, then explicit overrides (tests)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from polling.runtime import ASYNC_MODES

PACKAGE_DIR = Path(__file__).resolve().parent


def asset_path(name: str) -> Path:
    """templates, static or statements: inside the package when it was installed from a wheel
    (pyproject.toml maps them there), beside it in a checkout (`pip install -e .`)."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


# The decks that come with the package (the sample panel).
BUNDLED_DECKS = asset_path("statements")


def default_decks_dir() -> Path:
    """statements/ in the working directory if there is one (a checkout, or an organiser's
    own folder of decks), else the bundled decks."""
    here = Path.cwd() / "statements"
    return here if here.is_dir() else BUNDLED_DECKS


DEFAULTS: dict[str, Any] = {
    # None means: a SQLite file in the instance folder (see db.py).
    "DATABASE_URL": None,
    # None means: the machine's LAN address, so phones on the venue Wi-Fi can reach it.
    "PUBLIC_URL": None,
    # None means: default_decks_dir(), decided when the settings are read.
    "DECKS_DIR": None,
    "DEFAULT_DECK": "ai-in-de-zorg.toml",
    # eventlet in production (gevent works too); the tests use threading, which needs no
    # monkey patching.
    "ASYNC_MODE": "eventlet",
    # Tallies go to the presenter and moderator at most once per interval per event.
    # 0 sends one after every vote: only for tests, where determinism beats throughput.
    "TALLY_INTERVAL": 0.25,
    # How often (seconds) the server looks for rounds whose countdown ran out; 0: never by
    # itself (tests call Countdown.tick).
    "COUNTDOWN_INTERVAL": 0.25,
    # The audience's question list reaches phones at most once per interval per event (the
    # moderator and projector at once after a moderator action). 0: after every change (tests).
    "QUESTION_INTERVAL": 1.0,
    # eventlet's WSGI server accepts only 1,024 connections unless told otherwise.
    "MAX_CONNECTIONS": 20000,
    # Handshakes waiting to join beyond which new phones are told to come back later (see
    # polling/realtime/admission.py); 0 turns admission control off.
    "ADMISSION_CAPACITY": 750,
    # Seconds the event loop may run late before new connections are taken more slowly and new
    # phones' handshakes are turned away (see polling/realtime/admission.py; phones coming
    # back never are); 0: never.
    "ADMISSION_LAG": 0.1,
    # A redis:// URL lets several server processes share rooms (Flask-SocketIO message queue).
    "MESSAGE_QUEUE": None,
    # The Redis channel the processes of one deployment share; two deployments on one Redis
    # need different channels.
    "MESSAGE_CHANNEL": "polling",
    "RESULTS_MODE": "hidden",
    # Days after an event's last activity when its raw votes are deleted (counts are kept);
    # None keeps them until `polling purge --days N` or deletion.
    "RETENTION_DAYS": None,
    # Times in exports and in the terminal; a deck's `time_zone` overrides it for its events.
    "TIME_ZONE": "Europe/Amsterdam",
    # The organiser area's password, if not set with `polling admin set-password`.
    "ADMIN_PASSWORD": None,
}

# Environment variable -> (setting, converter).
ENVIRONMENT: dict[str, tuple[str, Any]] = {
    "DATABASE_URL": ("DATABASE_URL", str),
    "POLLING_PUBLIC_URL": ("PUBLIC_URL", str),
    # POLLING_DECKS_DIR is the older name; POLLING_DECKS, read after it, wins.
    "POLLING_DECKS_DIR": ("DECKS_DIR", str),
    "POLLING_DECKS": ("DECKS_DIR", str),
    "POLLING_DEFAULT_DECK": ("DEFAULT_DECK", str),
    "POLLING_ASYNC_MODE": ("ASYNC_MODE", str),
    "POLLING_TALLY_INTERVAL": ("TALLY_INTERVAL", float),
    "POLLING_COUNTDOWN_INTERVAL": ("COUNTDOWN_INTERVAL", float),
    "POLLING_QUESTION_INTERVAL": ("QUESTION_INTERVAL", float),
    "POLLING_MAX_CONNECTIONS": ("MAX_CONNECTIONS", int),
    "POLLING_ADMISSION_CAPACITY": ("ADMISSION_CAPACITY", int),
    "POLLING_ADMISSION_LAG": ("ADMISSION_LAG", float),
    "POLLING_MESSAGE_QUEUE": ("MESSAGE_QUEUE", str),
    "POLLING_MESSAGE_CHANNEL": ("MESSAGE_CHANNEL", str),
    "POLLING_RESULTS_MODE": ("RESULTS_MODE", str),
    "POLLING_SECRET_KEY": ("SECRET_KEY", str),
    "POLLING_RETENTION_DAYS": ("RETENTION_DAYS", int),
    "POLLING_ADMIN_PASSWORD": ("ADMIN_PASSWORD", str),
    "POLLING_TIME_ZONE": ("TIME_ZONE", str),
}


def time_zone(settings: Any) -> ZoneInfo:
    """The zone an organiser reads times in (TIME_ZONE): the terminal, CSV and xlsx."""
    return ZoneInfo(settings["TIME_ZONE"])


def load_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the settings: defaults, overridden by the environment, then by `overrides`."""
    settings = dict(DEFAULTS)
    for variable, (name, convert) in ENVIRONMENT.items():
        value = os.environ.get(variable)
        if value:
            try:
                settings[name] = convert(value)
            except ValueError as error:
                raise SystemExit(f"{variable}={value!r} is not valid: {error}") from None
    settings.update(overrides or {})
    settings["DECKS_DIR"] = str(settings["DECKS_DIR"] or default_decks_dir())
    try:
        ZoneInfo(settings["TIME_ZONE"])
    except (ValueError, ZoneInfoNotFoundError):
        raise SystemExit(
            f"POLLING_TIME_ZONE={settings['TIME_ZONE']!r} is not a time zone "
            "(for example Europe/Amsterdam)"
        ) from None
    if settings["ASYNC_MODE"] not in ASYNC_MODES:
        raise SystemExit(f"POLLING_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}")
    if settings["RESULTS_MODE"] not in ("hidden", "live"):
        raise SystemExit("POLLING_RESULTS_MODE must be 'hidden' or 'live'")
    return settings
