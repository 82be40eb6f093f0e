"""Fixtures: an app on a fresh SQLite file, the panel deck, an event, and connected clients.

Helpers that are not fixtures live in tests/support.py. The run fails if it leaves files in
the working tree that git would see (a test that writes into docs/, say): tests write to
their tmp_path or to build/.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from polling import create_app, db
from polling.domain.decks import Deck, load_deck
from polling.domain.events import create_event
from polling.domain.models import Event
from tests.services import postgres_url, redis_url  # noqa: F401 - fixtures for every test
from tests.support import PANEL_DECK, Clients, app_settings, close_clients

TREE_BEFORE = pytest.StashKey[set[str] | None]()


@pytest.fixture(autouse=True)
def _shut_down_socketio_clients() -> Iterator[None]:
    """After each test (and after its server stopped), no real client is left reconnecting."""
    yield
    close_clients()


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app(app_settings(tmp_path))


@pytest.fixture
def deck() -> Deck:
    return load_deck(PANEL_DECK)


@pytest.fixture
def event(app: Flask, deck: Deck) -> Event:
    with db.session() as session:
        return create_event(session, deck)


@pytest.fixture
def clients(app: Flask, event: Event) -> Clients:
    return Clients(app, event)


def tree_status() -> set[str] | None:
    """`git status` of the working tree, one entry per changed or new file; None outside git."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=Path(__file__).resolve().parents[1],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return set(done.stdout.splitlines()) if done.returncode == 0 else None


def pytest_sessionstart(session: pytest.Session) -> None:
    session.stash[TREE_BEFORE] = tree_status()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the run if the tests changed what git sees (tracked files, new untracked ones)."""
    before = session.stash.get(TREE_BEFORE, None)
    after = tree_status()
    if before is None or after is None or after <= before:
        return
    changed = "\n".join(f"  {entry}" for entry in sorted(after - before))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_sep("=", "the tests changed the working tree (git status)", red=True)
        reporter.write_line(changed)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
