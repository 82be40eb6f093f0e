"""What the tests share besides fixtures (those live in conftest.py): settings, the clients
that phones and screens use, a standard run of the first statement, and skip-or-fail.

A test module imports from here, never from another test module.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest
import requests
import socketio as socketio_client
import websocket
from flask import Flask
from flask_socketio import SocketIOTestClient
from socketio import base_client as socketio_base_client
from sqlalchemy import event as sqlalchemy_event

from polling import db, socketio
from polling.config import BUNDLED_DECKS
from polling.domain.models import Event
from tests.server_process import ServerProcess

PANEL_DECK = BUNDLED_DECKS / "ai-in-de-zorg.toml"
WAIT = 15  # seconds to wait for a real server's answer


# ---------- services a test needs: skip on a laptop, fail in CI ----------


def services_required() -> bool:
    """POLLING_REQUIRE_SERVICES=1 (as CI sets): a missing service fails the test."""
    return os.environ.get("POLLING_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip with the reason, or fail where the environment promises the service (CI)."""
    if services_required():
        pytest.fail(f"{reason} (POLLING_REQUIRE_SERVICES=1: not skipping)", pytrace=False)
    pytest.skip(reason)


def require_module(name: str, reason: str | None = None) -> ModuleType:
    """`pytest.importorskip` that fails instead under POLLING_REQUIRE_SERVICES=1."""
    try:
        return pytest.importorskip(name, reason=reason)
    except pytest.skip.Exception as skipped:
        unavailable(str(skipped.msg))


# ---------- an app in a temporary folder, and the test client's connections ----------


def app_settings(tmp_path: Path) -> dict[str, object]:
    """Settings for an app in a temporary folder, with deterministic tallies."""
    return {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'polling.sqlite3'}",
        "ASYNC_MODE": "threading",
        "TALLY_INTERVAL": 0,
        "COUNTDOWN_INTERVAL": 0,
        "QUESTION_INTERVAL": 0,
        "PUBLIC_URL": "http://polling.test",
    }


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


def run_first_statement(clients: Clients) -> None:
    """Three phones vote on statement 1; two rounds; then the panel moves on."""
    moderator = clients.moderator()
    phones = [clients.phone() for _ in range(3)]
    control(moderator, "next", "open")
    round_one = last_state(phones[0])["round"]["id"]
    for phone, choice in zip(phones, ("agree", "agree", "disagree"), strict=True):
        assert phone.emit("vote", {"round": round_one, "choice": choice}, callback=True)["ok"]
    control(moderator, "close", "new_round")
    round_two = last_state(phones[0])["round"]["id"]
    for phone, choice in zip(phones[:2], ("disagree", "disagree"), strict=True):
        assert phone.emit("vote", {"round": round_two, "choice": choice}, callback=True)["ok"]
    control(moderator, "next")


def download(app: Flask, event: Event, name: str, key: str | None = None):
    return app.test_client().get(
        f"/{event.code}/export/{name}", query_string={"key": key or event.moderator_key}
    )


# ---------- real python-socketio clients against a real server process ----------


class Client:
    """A python-socketio client that queues what it receives, so tests can await events.

    Every one is shut down after its test (conftest.py): a client still reconnecting to a
    stopped server would go on in the background, using `random` and making garbage while
    later tests run.
    """

    def __init__(self, server: ServerProcess, auth: dict, cookie: str | None = None) -> None:
        self.events: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.sio = socketio_client.Client(reconnection_delay=0.2, reconnection_delay_max=1)
        OPEN_CLIENTS.append(self)
        for name in ("state", "tally", "event_deleted"):
            self.sio.on(name, lambda data, name=name: self.events.put((name, data)))
        self.connected = threading.Event()
        self.sio.on("connect", self.connected.set)
        self.disconnected = threading.Event()
        self.sio.on("disconnect", self._on_disconnect)
        # A function, not a dict: python-engineio deletes the Cookie header from the dict it is
        # given when it upgrades to WebSocket, so a reconnect would go without the cookie.
        headers = (lambda: {"Cookie": f"polling={cookie}"}) if cookie else {}
        self.sio.connect(server.base_url, auth=auth, headers=headers, wait_timeout=WAIT)

    def _on_disconnect(self, *_reason) -> None:
        self.connected.clear()
        self.disconnected.set()

    def next(self, name: str, accept=lambda data: True) -> dict:
        """Wait for the next `name` event whose payload is accepted."""
        while True:
            got, data = self.events.get(timeout=WAIT)
            if got == name and accept(data):
                return data

    def forget_received(self) -> None:
        """Drop what arrived so far, so the next wait sees only what comes after."""
        while not self.events.empty():
            self.events.get_nowait()

    def call(self, event: str, data: dict) -> dict:
        """Emit and wait for the ack, once connected (the state may arrive just before)."""
        assert self.connected.wait(WAIT), "not connected"
        return self.sio.call(event, data, timeout=WAIT)

    def close(self) -> None:
        """Disconnect, or stop reconnecting (`disconnect()` leaves a reconnect loop running).

        `reconnection` is switched off first: python-socketio starts its reconnect loop from
        its read thread a moment after the link drops, and a `shutdown()` in that moment finds
        no loop to stop. The loop would then run through every later test, calling `random`,
        which Hypothesis takes for a strategy that uses it (and fails the fuzz tests).
        """
        stop_for_good(self.sio)


OPEN_CLIENTS: list[Client] = []


def stop_for_good(sio: socketio_client.Client) -> None:
    """Disconnect a python-socketio client, or end its reconnect loop, and let it start none."""
    sio.reconnection = False
    sio.shutdown()


def close_clients() -> None:
    """Shut down every Client made so far, and wait until no python-socketio reconnect loop is
    left: one can begin while its client's `close()` runs, and a test's own clients (not
    Client) can be left reconnecting to the server the test stopped."""
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().close()
    deadline = time.monotonic() + WAIT
    while loops := [t for t in threading.enumerate() if t.name.endswith("(_handle_reconnect)")]:
        assert time.monotonic() < deadline, f"python-socketio clients still reconnecting: {loops}"
        for leftover in list(socketio_base_client.reconnecting_clients):
            if isinstance(leftover, socketio_client.Client):  # an asyncio one ends with its loop
                stop_for_good(leftover)
        for loop in loops:
            if loop.is_alive():  # one only just created is not yet: the next pass takes it
                loop.join(0.1)


def phone(server: ServerProcess) -> Client:
    """Open the vote page over HTTP (for the cookie), then connect like the page's script."""
    response = requests.get(server.urls["join"], timeout=WAIT)
    response.raise_for_status()
    cookie = response.cookies["polling"]
    return Client(server, {"code": server.code, "role": "audience"}, cookie)


def moderator_client(server: ServerProcess) -> Client:
    """The moderator's phone, connected with the event's moderator key."""
    return Client(
        server, {"code": server.code, "role": "moderator", "key": server.key("moderator")}
    )


def voting_open(server: ServerProcess) -> tuple[Client, Client, int]:
    """A moderator and a phone, with voting open on the first statement; and its round."""
    control_client, voter = moderator_client(server), phone(server)
    for action in ("next", "open"):
        assert control_client.call("control", {"action": action}) == {"ok": True}
    round_id = voter.next("state", lambda s: s["phase"] == "open")["round"]["id"]
    return control_client, voter, round_id


def handshake(server: ServerProcess, cookie: str | None = None) -> websocket.WebSocket:
    """An Engine.IO session (over WebSocket) that has not joined the namespace (yet)."""
    socket = websocket.create_connection(
        f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
        cookie=f"polling={cookie}" if cookie else None,
        timeout=WAIT,
    )
    assert socket.recv().startswith("0{")
    return socket


# ---------- the organiser area ----------

PASSWORD = "correct horse battery"


def csrf(browser, path: str = "/organiser/login") -> str:
    """The CSRF token of the form on a page, as a browser would submit it."""
    page = browser.get(path).get_data(as_text=True)
    return re.search(r'name="csrf" value="(\w+)"', page).group(1)


def log_in(browser, password: str):
    return browser.post("/organiser/login", data={"password": password, "csrf": csrf(browser)})


@contextlib.contextmanager
def statements_run() -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block, in order."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sqlalchemy_event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sqlalchemy_event.remove(db.engine, "before_cursor_execute", record)
