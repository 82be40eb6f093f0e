"""Fixtures: an app on a fresh SQLite file, the panel deck, an event, and connected clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient

from polling import create_app, db, socketio
from polling.config import PROJECT_ROOT
from polling.domain.decks import Deck, load_deck
from polling.domain.events import create_event
from polling.domain.models import Event
from tests.services import postgres_url, redis_url  # noqa: F401 - fixtures for every test

PANEL_DECK = PROJECT_ROOT / "statements" / "ai-in-de-zorg.toml"


def app_settings(tmp_path: Path) -> dict[str, object]:
    """Settings for an app in a temporary folder, with deterministic tallies."""
    return {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'polling.sqlite3'}",
        "ASYNC_MODE": "threading",
        "TALLY_INTERVAL": 0,
        "QUESTION_INTERVAL": 0,
        "PUBLIC_URL": "http://polling.test",
    }


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


class Clients:
    """Connect phones, a presenter and a moderator to an event through the test client."""

    def __init__(self, app: Flask, event: Event) -> None:
        self.app = app
        self.event = event

    def phone(self, http=None) -> SocketIOTestClient:
        """A phone that opened the vote page (which sets its cookie), then connected."""
        http = http or self.app.test_client()
        assert http.get(f"/{self.event.code}").status_code == 200
        return socketio.test_client(
            self.app, flask_test_client=http, auth={"code": self.event.code, "role": "audience"}
        )

    def presenter(self, key: str | None = None) -> SocketIOTestClient:
        return socketio.test_client(
            self.app,
            auth={
                "code": self.event.code,
                "role": "presenter",
                "key": key or self.event.presenter_key,
            },
        )

    def moderator(self) -> SocketIOTestClient:
        return socketio.test_client(
            self.app,
            auth={"code": self.event.code, "role": "moderator", "key": self.event.moderator_key},
        )


@pytest.fixture
def clients(app: Flask, event: Event) -> Clients:
    return Clients(app, event)


def received(client: SocketIOTestClient, name: str) -> list[dict]:
    """The payloads of one event name that the client received since the last call."""
    return [message["args"][0] for message in client.get_received() if message["name"] == name]


def last_state(client: SocketIOTestClient) -> dict:
    states = received(client, "state")
    assert states, "no state received"
    return states[-1]


def control(moderator: SocketIOTestClient, *actions: str) -> None:
    """Apply moderator actions, each of which must succeed."""
    for action in actions:
        reply = moderator.emit("control", {"action": action}, callback=True)
        assert reply == {"ok": True}, (action, reply)
